"""Page benchmark: the forum under gunicorn and wrk, against a bare Flask "hello world" served alike.

    .venv/bin/python bench/pages.py [--quick] [--corpus PATH]

Imports the corpus into a fresh migrated SQLite database, adds threads of 5, 50 and 500 replies
(through forum.threads.services, a few members, bodies taken from the corpus), builds the search
index, then serves the forum (gunicorn.conf.py: 2 sync workers, rate limits off) and
bench/hello_app.py the same way on free 127.0.0.1 ports. For each page it loads hello world, the
page, the page again and hello world again with `wrk -t2 -c16` (alternating, so both see the same
machine) and prints req/s and latency percentiles (p50/p90/p95/p99 from a wrk Lua `done` hook)
with the ratio to hello world; then each page at -c2 (one request at a time per worker), whose
latency is the page's own rather than time spent queueing behind the 16 connections.

The search row repeats one common word, as a popular search would be; a worker serves repeats
from its pages cached for the index's current version. "search, varied words" asks for a random
one of 2,048 common words per request (8x what a worker caches), so nearly every request scores
and highlights afresh: that row is the cost of a search nobody asked just before.

Bars (DESIGN §7): thread page (20 posts) ≥ 12% of hello world with p99 < 50 ms; page 25 of the
500-reply thread within 10% of its page 1; search ≥ 2% with p95 < 100 ms, for the repeated word
and the varied words alike; ≤ 8 SQL queries per thread page, the same at 5 and 500 replies
(counted in-process with the test client); a worker's RSS after the load < 100 MB. Every server is stopped at the end, even on error. Exit status 1
when a bar fails. The machine is shared and noisy: compare pages by their ratios and by the
unqueued table rather than by one run's req/s.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from _common import (
    PROJECT_ROOT,
    QUICK_POSTS,
    SECRET_KEY,
    BackgroundProcess,
    Bars,
    QueryCounter,
    corpus_lines,
    heading,
    import_corpus,
    make_forum,
    parse_args,
)

SEED = 20
WRK = "/usr/bin/wrk"
CONNECTIONS, THREADS = 16, 2
# Seconds per wrk run. Each page is loaded hello, page, page, hello (ABBA: a drift in the
# machine's load hits both alike), so each side gets two runs.
DURATION, QUICK_DURATION = 5, 2
SOLO_CONNECTIONS = 2  # one connection per worker: the latency of a request that never queues
WARMUP, SEARCH_WARMUP = 2, 5  # a worker's first search builds its spelling vocabulary
THREAD_BAR, THREAD_GOAL, THREAD_P99_MS = 0.12, 0.25, 50.0
DEEP_PAGE_TOLERANCE = 0.10
SEARCH_BAR, SEARCH_GOAL, SEARCH_P95_MS = 0.02, 0.05, 100.0
SEARCH_WORD_RANK = 100  # "between" on 20news: 667 threads match
VARIED_SEARCHES, CACHED_PAGES = 2048, 256  # the forum's default FORUM_SEARCH_CACHED_PAGES
QUERIES_BAR, QUERIES_GOAL = 8, 5
RSS_BAR_MB, RSS_GOAL_MB = 100, 80
MEMBERS = ("bench-ann", "bench-bob", "bench-cy", "bench-dee")
PASSWORD = "benchmark horse battery staple"
LONG_THREADS = (5, 50, 500)  # replies
DEEP_PAGE = 25

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_JSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"socket_errors\\": %d, " ..
    "\\"non2xx\\": %d, \\"p50\\": %d, \\"p90\\": %d, \\"p95\\": %d, \\"p99\\": %d, \\"max\\": %d}\\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


@dataclass
class Load:
    requests: int
    seconds: float
    socket_errors: int
    non2xx: int
    p50: float  # ms
    p90: float
    p95: float
    p99: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def __add__(self, other: Load) -> Load:
        """Two runs pooled: requests over time; the worse of each percentile (no histograms)."""
        return Load(
            requests=self.requests + other.requests,
            seconds=self.seconds + other.seconds,
            socket_errors=self.socket_errors + other.socket_errors,
            non2xx=self.non2xx + other.non2xx,
            p50=max(self.p50, other.p50),
            p90=max(self.p90, other.p90),
            p95=max(self.p95, other.p95),
            p99=max(self.p99, other.p99),
        )


# setup ---------------------------------------------------------------------------------------


def make_long_threads(app) -> dict[int, tuple[int, str]]:
    """Threads of 5, 50 and 500 replies by a few members; replies -> (thread id, slug)."""
    from sqlalchemy import func, select

    from forum.auth.services import register
    from forum.extensions import db
    from forum.models import Board, Member, Post, Thread
    from forum.threads.services import create_thread, reply

    rng = random.Random(SEED)
    made = {}
    with app.app_context():
        bodies = [
            body
            for body in db.session.scalars(select(Post.body_source).order_by(Post.id))
            if 200 <= len(body) <= 4000
        ]
        member_ids = [register(handle, handle.title(), PASSWORD).id for handle in MEMBERS]
        board_id = db.session.scalar(select(Board.id).order_by(Board.position).limit(1))
        for replies in LONG_THREADS:
            members = [db.session.get(Member, i) for i in member_ids]
            thread = create_thread(
                members[0],
                db.session.get(Board, board_id),
                f"Benchmark: a thread with {replies} replies",
                rng.choice(bodies),
            )
            thread_id = thread.id
            for n in range(replies):
                author = db.session.get(Member, member_ids[(n + 1) % len(member_ids)])
                reply(author, db.session.get(Thread, thread_id), rng.choice(bodies))
            thread = db.session.get(Thread, thread_id)
            count = db.session.scalar(select(func.count()).where(Post.thread_id == thread_id))
            assert count == replies + 1 == thread.post_count, (count, thread.post_count)
            made[replies] = (thread_id, thread.slug)
        db.session.remove()
    return made


def search_words(app) -> list[str]:
    """Words by the number of posts holding them, most first, stop words and short words aside."""
    import re
    from collections import Counter

    from sqlalchemy import select
    from whoosh.analysis import STOP_WORDS

    from forum.extensions import db
    from forum.models import Post

    counts: Counter = Counter()
    with app.app_context():
        for subject, body in db.session.execute(select(Post.subject, Post.body_source)):
            counts.update(set(re.findall(r"[a-z]+", f"{subject} {body}".lower())))
    return sorted(
        (w for w in counts if len(w) >= 4 and w not in STOP_WORDS),
        key=lambda w: (-counts[w], w),
    )


def varied_search_script(words: list[str], path: Path) -> Path:
    """A wrk script asking for a random one of many searches per request, so few repeat."""
    paths = ",\n".join(f'  "/search?q={word}"' for word in words)
    path.write_text(
        f"paths = {{\n{paths}\n}}\n"
        "request = function()\n"
        "  return wrk.format(nil, paths[math.random(#paths)])\n"
        "end\n" + WRK_SCRIPT
    )
    return path


def sql_per_page(app, pages: dict[str, str]) -> dict[str, int]:
    """SQL statements per page, each fetched twice in-process (the second is counted)."""
    counter = QueryCounter(app)
    client = app.test_client()
    counts = {}
    for name, url in pages.items():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{name} {url} answered {response.status_code}")
        with counter.counting():
            client.get(url)
        counts[name] = counter.count
    return counts


# servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server(BackgroundProcess):
    """gunicorn -c gunicorn.conf.py in its own process group, stopped by stop()."""

    def __init__(self, name: str, log_dir: Path, extra_args: list[str], env: dict) -> None:
        self.port = free_port()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        super().__init__(
            name,
            log_dir,
            [str(gunicorn), "-c", "gunicorn.conf.py", "--workers", "2", *extra_args],
            PROJECT_ROOT,
            {**os.environ, **env, "PORT": str(self.port), "WEB_CONCURRENCY": "2"},
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, path: str = "/", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url(path), timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} server did not answer within {timeout} s")

    def workers(self) -> list[int]:
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            return []
        return [int(c) for c in children]


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def workers_rss(server: Server) -> list[float]:
    return [mb for pid in server.workers() if (mb := rss_mb(pid)) is not None]


def warm_search(url: str) -> None:
    """One search per worker at once (each builds its spelling vocabulary), bounded in time."""

    def fetch(_) -> str:
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                return str(response.status)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            return repr(exc)

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(fetch, range(2)))
    print(
        f"(first search on each worker: {time.perf_counter() - started:.1f} s, "
        f"answers {', '.join(statuses)})"
    )


def wrk(url: str, seconds: int, script: Path, connections: int = CONNECTIONS) -> Load:
    result = subprocess.run(
        [
            WRK,
            f"-t{min(THREADS, connections)}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    )
    line = next(x for x in result.stdout.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        socket_errors=data["socket_errors"],
        non2xx=data["non2xx"],
        p50=data["p50"] / 1000,
        p90=data["p90"] / 1000,
        p95=data["p95"] / 1000,
        p99=data["p99"] / 1000,
    )


# main ----------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], f"import the first {QUICK_POSTS} posts, 3 s loads")
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    if not Path(WRK).exists():
        print(f"wrk not found at {WRK}", file=sys.stderr)
        return 2
    duration = QUICK_DURATION if args.quick else DURATION
    bars = Bars()
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="forum-bench-pages-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            from forum.extensions import db
            from forum.search import get_search

            heading(f"Setup: {args.corpus.name}{' (quick)' if args.quick else ''}")
            corpus = corpus_lines(args.corpus, QUICK_POSTS if args.quick else None, tmp)
            app = make_forum(tmp)
            report, seconds = import_corpus(app, corpus)
            print(f"imported {report.posts_created} posts in {seconds:.0f} s")
            started = time.perf_counter()
            threads = make_long_threads(app)
            print(
                f"threads of {', '.join(map(str, LONG_THREADS))} replies made in "
                f"{time.perf_counter() - started:.0f} s"
            )
            started = time.perf_counter()
            indexed = get_search(app).rebuild()
            print(f"indexed {indexed} posts in {time.perf_counter() - started:.0f} s")
            ranked = search_words(app)
            word = ranked[SEARCH_WORD_RANK]
            varied = ranked[SEARCH_WORD_RANK : SEARCH_WORD_RANK + VARIED_SEARCHES]
            total = get_search(app).search(word).total
            print(
                f"search word: {word!r} ({total} threads match); varied searches: the "
                f"{len(varied)} words ranked {SEARCH_WORD_RANK}-{SEARCH_WORD_RANK + len(varied)} "
                f"by posts holding them, {VARIED_SEARCHES // CACHED_PAGES}x the pages a worker "
                "caches"
            )
            with app.app_context():
                board_slug = db.session.execute(
                    db.text("SELECT slug FROM boards ORDER BY thread_count DESC, id LIMIT 1")
                ).scalar()

            def thread_url(replies: int, page: int = 1) -> str:
                thread_id, slug = threads[replies]
                return f"/t/{thread_id}-{slug}" + (f"?page={page}" if page > 1 else "")

            pages = {
                "board list": "/",
                "board page": f"/b/{board_slug}",
                "thread, 50 replies": thread_url(50),
                "500 replies, page 1": thread_url(500),
                f"500 replies, page {DEEP_PAGE}": thread_url(500, DEEP_PAGE),
                "search": f"/search?q={word}",
                "search, varied words": f"/search?q={varied[-1]}",
            }
            sql_pages = {**pages, "thread, 5 replies": thread_url(5)}
            queries = sql_per_page(app, sql_pages)
            with app.app_context():
                db.engine.dispose()

            heading(
                f"Load: wrk -t{THREADS} -c{CONNECTIONS}, hello/page/page/hello runs of {duration} s "
                "each, gunicorn 2 sync workers"
            )
            script = tmp / "report.lua"
            script.write_text(WRK_SCRIPT)
            scripts = {"search, varied words": varied_search_script(varied, tmp / "varied.lua")}
            forum_env = {
                "FORUM_DATABASE_URL": f"sqlite:///{tmp / 'forum.db'}",
                "FORUM_SEARCH_INDEX_DIR": str(tmp / "search_index"),
                "FORUM_SECRET_KEY": SECRET_KEY,
                "FORUM_RATELIMIT_ENABLED": "0",
            }
            forum = Server("forum", tmp, [], forum_env)
            servers.append(forum)
            hello = Server("hello", tmp, ["--pythonpath", "bench", "hello_app:app"], {})
            servers.append(hello)
            forum.wait_ready()
            hello.wait_ready()
            wrk(hello.url("/"), WARMUP, script)
            for name, path in pages.items():  # warm both workers (imports, caches)
                if not name.startswith("search"):
                    wrk(forum.url(path), WARMUP, script)

            results: dict[str, tuple[Load, Load]] = {}
            rss: dict[str, list[float]] = {}
            print(
                f"{'page':<22} {'req/s':>7} {'p50':>6} {'p90':>6} {'p95':>6} {'p99':>6} "
                f"{'hello':>7} {'p99':>6} {'ratio':>6} {'SQL':>4}   (ms; SQL: statements per page, "
                "BEGIN included)"
            )
            for name, path in pages.items():
                if name == "search":  # last: a worker's first search builds its spelling vocabulary
                    rss["forum before search"] = workers_rss(forum)
                    warm_search(forum.url(path))
                    wrk(forum.url(path), SEARCH_WARMUP, script)
                page_script = scripts.get(name, script)
                base = wrk(hello.url("/"), duration, script)
                load = wrk(forum.url(path), duration, page_script)
                load += wrk(forum.url(path), duration, page_script)
                base += wrk(hello.url("/"), duration, script)
                results[name] = (load, base)
                errors = load.socket_errors + load.non2xx
                print(
                    f"{name:<22} {load.rate:>7.1f} {load.p50:>6.1f} {load.p90:>6.1f} "
                    f"{load.p95:>6.1f} {load.p99:>6.1f} {base.rate:>7.0f} {base.p99:>6.1f} "
                    f"{load.rate / base.rate:>6.1%} {queries[name]:>4}"
                    + (f"   {errors} socket errors/non-2xx" if errors else "")
                )
            print(f"{'thread, 5 replies':<22} {'(SQL only)':>64} {queries['thread, 5 replies']:>4}")
            hello_rates = [base.rate for _, base in results.values()]
            print(
                f"hello world: {min(hello_rates):.0f}-{max(hello_rates):.0f} req/s over the run; "
                "p50/p90/p95/p99 from wrk's latency histogram (Lua done hook), the worse of the two "
                "runs; wrk counts a request over 5 s as a timeout (socket error), not in them"
            )
            print()
            print(
                f"Unqueued latency: wrk -t{SOLO_CONNECTIONS} -c{SOLO_CONNECTIONS} (one request at a "
                f"time per worker), {duration} s per page"
            )
            print(f"{'page':<22} {'req/s':>7} {'p50':>6} {'p90':>6} {'p95':>6} {'p99':>6}")
            solo: dict[str, Load] = {
                "hello world": wrk(hello.url("/"), duration, script, SOLO_CONNECTIONS)
            }
            for name, path in pages.items():
                solo[name] = wrk(
                    forum.url(path), duration, scripts.get(name, script), SOLO_CONNECTIONS
                )
            for name, load in solo.items():
                print(
                    f"{name:<22} {load.rate:>7.1f} {load.p50:>6.1f} {load.p90:>6.1f} "
                    f"{load.p95:>6.1f} {load.p99:>6.1f}"
                )
            rss["forum after search"] = workers_rss(forum)
            rss["hello"] = workers_rss(hello)
            print(
                "worker RSS after the load: "
                + "; ".join(
                    f"{name} " + ", ".join(f"{mb:.0f} MB" for mb in values)
                    for name, values in rss.items()
                )
            )
            timeouts = forum.log_text().count("WORKER TIMEOUT")
            if timeouts:
                print(
                    f"the forum's log shows {timeouts} WORKER TIMEOUT(s) (gunicorn killed a worker "
                    "busy for more than its timeout); its last lines:"
                )
                print("\n".join("    " + line for line in forum.log_text().splitlines()[-12:]))
            for name, (load, _) in results.items():
                if load.socket_errors or load.non2xx:
                    bars.check(
                        f"{name} answers",
                        False,
                        f"{load.non2xx} non-2xx, {load.socket_errors} socket errors",
                    )

            def share(name: str) -> float:
                load, base = results[name]
                return load.rate / base.rate

            for name, (load, _) in results.items():
                if load.requests == 0:
                    bars.check(f"{name} answers", False, "no request completed under load")

            thread, _ = results["thread, 50 replies"]
            bars.check(
                "thread page (20 posts) vs hello world",
                share("thread, 50 replies") >= THREAD_BAR,
                f"{share('thread, 50 replies'):.1%} (bar ≥ {THREAD_BAR:.0%}, goal {THREAD_GOAL:.0%})",
            )
            bars.check(
                "thread page p99",
                thread.requests > 0 and thread.p99 < THREAD_P99_MS,
                f"{thread.p99:.1f} ms (bar < {THREAD_P99_MS:.0f} ms)",
            )
            first, deep_page = (
                results["500 replies, page 1"][0],
                results[f"500 replies, page {DEEP_PAGE}"][0],
            )
            deep = deep_page.rate / max(first.rate, 1e-9)  # adjacent runs: compared directly
            bars.check(
                f"page {DEEP_PAGE} vs page 1 of the 500-reply thread",
                deep >= 1 - DEEP_PAGE_TOLERANCE,
                f"{deep:.1%} of page 1's throughput (measured one after the other; p50 "
                f"{deep_page.p50:.1f} vs {first.p50:.1f} ms; bar ≥ {1 - DEEP_PAGE_TOLERANCE:.0%})",
            )
            # the same bars for a popular word (served from cached pages) and varied words
            for name in ("search", "search, varied words"):
                load, _ = results[name]
                bars.check(
                    f"{name} vs hello world",
                    share(name) >= SEARCH_BAR,
                    f"{share(name):.1%} (bar ≥ {SEARCH_BAR:.0%}, goal {SEARCH_GOAL:.0%}; "
                    f"unqueued p50 {solo[name].p50:.1f} ms)",
                )
                bars.check(
                    f"{name} p95",
                    load.requests > 0 and load.p95 < SEARCH_P95_MS,
                    f"{load.p95:.1f} ms (bar < {SEARCH_P95_MS:.0f} ms)",
                )
            thread_queries = [queries[n] for n in queries if "repl" in n]
            bars.check(
                "SQL queries per thread page",
                max(thread_queries) <= QUERIES_BAR and len(set(thread_queries)) == 1,
                f"{', '.join(f'{n}: {queries[n]}' for n in queries if 'repl' in n)} "
                f"(bar ≤ {QUERIES_BAR} and the same for every length, goal ≤ {QUERIES_GOAL})",
            )
            forum_rss = rss["forum before search"] + rss["forum after search"]
            bars.check(
                "forum worker RSS after the load",
                bool(forum_rss) and max(forum_rss) < RSS_BAR_MB,
                f"max {max(forum_rss, default=0):.0f} MB (bar < {RSS_BAR_MB} MB, goal < "
                f"{RSS_GOAL_MB} MB; hello world's workers: "
                f"{max(rss['hello'], default=0):.0f} MB)",
            )
        finally:
            for server in servers:
                server.stop()
    return bars.report()


if __name__ == "__main__":
    sys.exit(main())
