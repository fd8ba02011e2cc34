"""Rename benchmark: a member with many posts renaming themselves, against a save that keeps the name.

    .venv/bin/python bench/rename.py [--quick] [--corpus PATH]

One member with 2,605 posts (--quick: 500; bodies, boards and threads from the corpus's first
lines, imported with the app's importer) saves POST /members/settings through the Flask test
client, logged in through the real /login form, with the form's CSRF token. Three kinds of save,
rotated round by round, medians of the in-request time (redirect not followed):

  (a) baseline: the signature changes, the display name does not (no outbox rows);
  (b) rename, SEARCH_DRAIN_IN_REQUEST=200 (the default): at most 200 rows applied in the request,
      the rest left to the background drain (`get_search(app).drain_backlog()`, run here by hand
      after each (b) and timed; no jobs worker runs, the queued Huey tasks go to a temp file);
  (c) rename, SEARCH_DRAIN_IN_REQUEST=10**9: every post reindexed inside the request (the old way).

Ratios (b)/(a) and (c)/(a), measured in the same run; no wall-clock bar. PASS/FAIL lines check
what is not timing: each save redirected and stored its name, (b) left posts - 200 rows, (c) none,
and the index matches the database at the end (`check()`). Exit status 1 when one fails.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import Bars, bench_config, heading, import_corpus, median, parse_args

POSTS, QUICK_POSTS = 2605, 500
ROUNDS, QUICK_ROUNDS = 7, 3  # measured saves of each kind
WARM = 1  # unmeasured saves of each kind first
HANDLE, PASSWORD = "bench-renamer", "benchmark horse battery staple"
NAMES = ("Bench Renamer Alpha", "Bench Renamer Beta")
IN_REQUEST, HUGE = 200, 10**9
CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def posts_file(corpus: Path | None, count: int, dest: Path) -> Path:
    """count post lines, all by HANDLE: the corpus's boards, threads and bodies when it is there
    (posted_at one minute apart, so no two of a thread share the importer's identity)."""
    start = datetime(2001, 1, 1, tzinfo=UTC)
    lines = []
    if corpus is not None:
        opener = gzip.open if corpus.suffix == ".gz" else open
        with opener(corpus, "rb") as source:
            for line in source:
                obj = json.loads(line)
                if "body" in obj:
                    lines.append(obj)
                if len(lines) >= count:
                    break
    while len(lines) < count:  # no corpus (or a short one): threads of 20 templated posts
        n = len(lines)
        body = f"Post {n}: " + "words of a usual reply about the subject " * 12
        lines.append({"board": "Bench", "thread": f"t{n // 20}", "subject": f"Thread {n // 20}"})
        lines[-1]["body"] = body
    with dest.open("w") as out:
        for n, obj in enumerate(lines):
            obj.update(author=HANDLE, posted_at=(start + timedelta(minutes=n)).isoformat())
            out.write(json.dumps(obj) + "\n")
    return dest


def csrf(client, page: str) -> str:
    match = CSRF_RE.search(client.get(page, follow_redirects=True).get_data(as_text=True))
    if not match:
        raise RuntimeError(f"no CSRF token on {page}")
    return match[1] or match[2]


def save(client, display_name: str, signature: str) -> tuple[float, int]:
    """One POST /members/settings (token read before the clock starts): (ms, status)."""
    data = {
        "csrf_token": csrf(client, "/members/settings"),
        "display_name": display_name,
        "signature": signature,
        "featured_badge": "0",
    }
    started = time.perf_counter()
    response = client.post("/members/settings", data=data)
    return (time.perf_counter() - started) * 1000, response.status_code


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], f"{QUICK_POSTS} posts, {QUICK_ROUNDS} rounds")
    posts = QUICK_POSTS if args.quick else POSTS
    rounds = QUICK_ROUNDS if args.quick else ROUNDS
    bars = Bars()
    with tempfile.TemporaryDirectory(prefix="forum-bench-rename-") as tmp_name:
        tmp = Path(tmp_name)
        from flask_migrate import upgrade
        from sqlalchemy import select

        from forum import create_app
        from forum.auth.services import register
        from forum.extensions import db
        from forum.models import Member
        from forum.search import get_search

        heading(f"Setup{' (quick)' if args.quick else ''}")
        # the app as served: drain after commit; Huey's queue in tmp, no worker consuming it
        config = bench_config(tmp) | {"TASK_QUEUE_URL": f"sqlite:///{tmp / 'tasks.sqlite'}"}
        app = create_app(config | {"MAIL_FILE_DIR": str(tmp / "mail")})
        with app.app_context():
            upgrade()
            member_id = register(HANDLE, NAMES[0], PASSWORD).id
        corpus = args.corpus if args.corpus.exists() else None
        report, seconds = import_corpus(app, posts_file(corpus, posts, tmp / "posts.jsonl"))
        if report.posts_created != posts or report.skipped:
            raise RuntimeError(f"import: {report.posts_created} posts, {report.skipped[:3]}")
        started = time.perf_counter()
        indexed = get_search(app).rebuild()
        print(
            f"{HANDLE}: {posts} posts in {report.threads_created} threads "
            f"({corpus.name if corpus else 'templated bodies'}), imported in {seconds:.1f} s; "
            f"index built ({indexed} documents) in {time.perf_counter() - started:.1f} s"
        )
        app.config["SEARCH_DRAIN_AFTER_COMMIT"] = True
        search = get_search(app)

        def stored_name() -> str:
            with app.app_context():
                return db.session.scalar(select(Member.display_name).where(Member.id == member_id))

        client = app.test_client()
        response = client.post(
            "/login",
            data={"csrf_token": csrf(client, "/login"), "handle": HANDLE, "password": PASSWORD},
        )
        if response.status_code != 302:
            raise RuntimeError(f"login answered {response.status_code}")

        kinds = ("a", "b", "c")
        labels = {
            "a": "(a) baseline: signature only",
            "b": f"(b) rename, SEARCH_DRAIN_IN_REQUEST={IN_REQUEST}",
            "c": "(c) rename, SEARCH_DRAIN_IN_REQUEST=10**9",
        }
        times: dict[str, list[float]] = {k: [] for k in kinds}
        left_after_b: list[int] = []
        left_after_c: list[int] = []
        backlog_ms: list[float] = []
        bad: list[str] = []
        name = NAMES[0]
        heading(
            f"Saves: {WARM} unmeasured + {rounds} measured of each kind, order rotated each round"
        )
        for n in range(WARM + rounds):
            for kind in kinds[n % 3 :] + kinds[: n % 3]:
                if search.pending():
                    raise RuntimeError("the outbox is not empty before a save")
                if kind != "a":
                    name = NAMES[1] if name == NAMES[0] else NAMES[0]
                app.config["SEARCH_DRAIN_IN_REQUEST"] = HUGE if kind == "c" else IN_REQUEST
                ms, status = save(client, name, f"Signature {n}{kind}")
                if status != 302 or stored_name() != name:
                    bad.append(f"{kind}{n}: {status}, name {stored_name()!r}")
                left = search.pending()
                if kind == "b":
                    started = time.perf_counter()
                    search.drain_backlog()
                    drained = (time.perf_counter() - started) * 1000
                elif kind == "c":
                    left_after_c.append(left)
                search.drain_backlog()  # a baseline's save leaves nothing; nothing left for the next
                if n >= WARM:
                    times[kind].append(ms)
                    if kind == "b":
                        left_after_b.append(left)
                        backlog_ms.append(drained)
            if n >= WARM:
                print(
                    f"  round {n - WARM + 1}: "
                    + "  ".join(f"{k} {times[k][-1]:8.1f} ms" for k in kinds)
                    + f"  (b left {left_after_b[-1]}, drained in {backlog_ms[-1]:.0f} ms)"
                )

        heading(f"Results ({posts} posts, medians of {rounds})")
        base = median(times["a"])
        for kind in kinds:
            mid = median(times[kind])
            print(
                f"{labels[kind]:<40} {mid:9.1f} ms  {mid / base:6.1f}x (a)"
                f"   min {min(times[kind]):8.1f}  max {max(times[kind]):8.1f}"
            )
        print(
            f"outbox rows left after (b): {median(left_after_b):.0f}; drain_backlog() then took "
            f"{median(backlog_ms):.0f} ms (median; min {min(backlog_ms):.0f}, max "
            f"{max(backlog_ms):.0f})"
        )
        bars.info(
            f"(b)/(a) = {median(times['b']) / base:.2f}x, (c)/(a) = {median(times['c']) / base:.2f}x"
        )
        bars.check("every save redirected and stored its name", not bad, "; ".join(bad) or "ok")
        want = posts - IN_REQUEST
        bars.check(
            f"(b) left {want} outbox rows",
            set(left_after_b) == {want},
            f"left {sorted(set(left_after_b))}",
        )
        bars.check(
            "(c) left no outbox rows", set(left_after_c) == {0}, f"{sorted(set(left_after_c))}"
        )
        check = search.check()
        bars.check(
            "index matches the database after the drains",
            check.clean,
            f"missing {len(check.missing)}, stale {len(check.stale)}, stray {len(check.stray)}",
        )
        with app.app_context():
            db.engine.dispose()
        return bars.report()


if __name__ == "__main__":
    sys.exit(main())
