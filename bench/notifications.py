"""Notifications benchmark: a reply to a thread with 1,000 watchers, their fan-out, and the page.

    .venv/bin/python bench/notifications.py [--quick] [--corpus PATH]

Three figures, each against a baseline measured in the same run (the machine is shared and noisy):

1. Reply latency. POST /t/<id>/reply through gunicorn (gunicorn.conf.py, 2 sync workers, rate
   limits off), logged in as a member, to a thread 1,000 members watch (confirmed e-mail,
   watched_reply e-mail "immediately": each reply makes 1,000 notifications and 1,000 e-mails)
   against a reply to a thread nobody watches, alternated. No jobs worker runs meanwhile, so the
   figure is the request's own work; the events it leaves are marked handled afterwards.
   Bar: median and p95 within 20% of the unwatched reply's.
2. Fan-out. With a real `flask --app forum jobs worker` (Huey on a SQLite file shared with
   gunicorn) and FORUM_MAIL_URL pointing at a loopback aiosmtpd server: the time from sending one
   such reply until the 1,000 notifications are committed and the 1,000 e-mails received;
   against a bare smtplib loop sending the same 1,000 messages to the same server over one
   connection. Reported (seconds, ms per message, ratio); no bar is set for it.
3. Thread page. GET of a 20-post thread page, logged in (the header shows an unread count on the
   new code), wrk -t2 -c16 against the same page served by the code before the notifications
   change (git commit a518c1e, extracted with `git archive` into a temp dir and served from
   there with the same venv: gunicorn --chdir and PYTHONPATH), each on its own database migrated
   by its own `flask db upgrade` and filled alike. Runs alternate old/new. Bar: new ≥ 95% of old.

The 1,000 watchers are written with bulk INSERTs. Every server, the worker and the temp dirs are
removed at the end, even on error. Exit status 1 when a bar fails.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

from _common import (
    PROJECT_ROOT,
    SECRET_KEY,
    BackgroundProcess,
    Bars,
    heading,
    median,
    parse_args,
    percentile,
)
from pages import WRK, WRK_SCRIPT, Load, free_port, wrk

BEFORE_COMMIT = "a518c1e"  # the code before the notifications change
WATCHERS = 1000
SAMPLES, QUICK_SAMPLES = 30, 6  # replies of each kind
WARM_REPLIES = 3  # of each kind, unmeasured
FANOUT_RUNS, QUICK_FANOUT_RUNS = 3, 1
ROUNDS, QUICK_ROUNDS = 3, 1  # old/new wrk runs of the thread page
DURATION, QUICK_DURATION = 5, 2
WARMUP = 2
CONNECTIONS = 16
REPLY_TOLERANCE = 0.20
PAGE_TOLERANCE = 0.05
FANOUT_TIMEOUT = 600
PASSWORD = "benchmark horse battery staple"
READER, WRITER = "bench-reader", "bench-writer"
PAGE_POSTS = 20

# Run with each tree's own `forum` package (cwd and PYTHONPATH); the same calls exist in both.
SEED_SCRIPT = r"""
import json, sys
from forum import create_app
from forum.auth.services import register
from forum.extensions import db
from forum.models import Board, Member, Thread
from forum.threads.services import create_thread, reply

spec = json.load(open(sys.argv[1]))
app = create_app()
with app.app_context():
    board = Board(slug="bench", name="Bench", description="Benchmark board", position=0)
    db.session.add(board)
    db.session.commit()
    board_id = board.id
    ids = [register(h, h.title(), spec["password"]).id for h in spec["members"]]
    threads = {}
    for name, subject, posts in spec["threads"]:
        bodies = spec["bodies"]
        thread = create_thread(
            db.session.get(Member, ids[0]), db.session.get(Board, board_id), subject, bodies[0]
        )
        thread_id = thread.id
        for n in range(1, posts):
            reply(db.session.get(Member, ids[1]), db.session.get(Thread, thread_id),
                  bodies[n % len(bodies)])
        thread = db.session.get(Thread, thread_id)
        assert thread.post_count == posts, (thread.post_count, posts)
        threads[name] = {"id": thread.id, "slug": thread.slug}
    print("SEED_JSON " + json.dumps({"members": ids, "threads": threads}))
"""

IMPORT_CHECK = (
    "import forum, pathlib; p = pathlib.Path(forum.__file__).parent; "
    "print(p, (p / 'tasks.py').exists())"
)


# processes -------------------------------------------------------------------------------------


class Server(BackgroundProcess):
    """gunicorn -c gunicorn.conf.py (the tree's own) with 2 workers, serving the tree at root."""

    def __init__(self, name: str, log_dir: Path, root: Path, env: dict) -> None:
        self.port = free_port()
        gunicorn = Path(sys.executable).parent / "gunicorn"
        super().__init__(
            name,
            log_dir,
            [str(gunicorn), "-c", "gunicorn.conf.py", "--chdir", str(root), "--workers", "2"],
            root,
            {**env, "PORT": str(self.port), "WEB_CONCURRENCY": "2"},
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_text()[-2000:]}")
            try:
                if request(self.port, "GET", "/")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s")


def tree_env(root: Path, tmp: Path, name: str, **extra: str) -> dict:
    """The environment a tree's server, CLI and seed script run in: its own database and files."""
    env = {
        **os.environ,
        "PYTHONPATH": str(root),  # `forum` imports from root (checked by check_tree)
        "FORUM_DATABASE_URL": f"sqlite:///{tmp / f'{name}.db'}",
        "FORUM_SEARCH_INDEX_DIR": str(tmp / f"{name}-search_index"),
        "FORUM_SECRET_KEY": SECRET_KEY,
        "FORUM_RATELIMIT_ENABLED": "0",
        "FORUM_TASK_QUEUE_URL": f"sqlite:///{tmp / f'{name}-tasks.sqlite'}",
        "FORUM_MAIL_FILE_DIR": str(tmp / f"{name}-mail"),
        **extra,
    }
    env.pop("JOBS_WORKER", None)  # the benchmark starts the worker itself, when it wants one
    return env


def flask(root: Path, env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "forum", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} in {root} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def check_tree(root: Path, env: dict, want_tasks: bool) -> str:
    """Which forum package the tree's processes import; fails if it is the wrong one."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    package, has_tasks = Path(out[0]), out[1] == "True"
    if package.parent.resolve() != root.resolve() or has_tasks != want_tasks:
        raise RuntimeError(f"{root}: imported {package} (forum/tasks.py: {has_tasks})")
    return str(package)


def seed(root: Path, env: dict, tmp: Path, name: str, bodies: list[str], threads) -> dict:
    spec = tmp / f"{name}-seed.json"
    spec.write_text(
        json.dumps(
            {
                "password": PASSWORD,
                "members": [READER, WRITER],
                "bodies": bodies,
                "threads": threads,
            }
        )
    )
    result = subprocess.run(
        [sys.executable, "-c", SEED_SCRIPT, str(spec)],
        cwd=root,
        env={**env, "FORUM_ARGON2_TIME_COST": "1", "FORUM_ARGON2_MEMORY_COST": "1024"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"seeding {name} failed:\n{result.stderr[-3000:]}")
    line = next(x for x in result.stdout.splitlines() if x.startswith("SEED_JSON "))
    return json.loads(line.removeprefix("SEED_JSON "))


# HTTP --------------------------------------------------------------------------------------------


def request(
    port: int, method: str, path: str, cookie: str = "", form: dict | None = None
) -> tuple[int, dict[str, list[str]], str]:
    """One request on a fresh connection (gunicorn's sync workers close each one anyway)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Cookie": cookie} if cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        found: dict[str, list[str]] = {}
        for key, value in response.getheaders():
            found.setdefault(key.lower(), []).append(value)
        return response.status, found, text
    finally:
        connection.close()


class Browser:
    """Keeps the cookies one logged-in member's browser would."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def go(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, str]:
        status, headers, text = request(self.port, method, path, self.cookie, form)
        for line in headers.get("set-cookie", []):
            jar = SimpleCookie()
            jar.load(line)
            for key, morsel in jar.items():
                if morsel.value:
                    self.cookies[key] = morsel.value
                else:
                    self.cookies.pop(key, None)
        return status, headers, text

    def csrf(self, path: str) -> str:
        status, _, text = self.go("GET", path)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text) or re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', text
        )
        if status != 200 or not match:
            raise RuntimeError(f"no CSRF token on {path} ({status})")
        return match.group(1)

    def log_in(self, handle: str) -> None:
        token = self.csrf("/login")
        status, _, _ = self.go(
            "POST", "/login", {"csrf_token": token, "handle": handle, "password": PASSWORD}
        )
        if status not in (302, 303):
            raise RuntimeError(f"logging in as {handle} answered {status}")


def thread_path(thread: dict) -> str:
    return f"/t/{thread['id']}-{thread['slug']}"


# content -----------------------------------------------------------------------------------------


def corpus_bodies(path: Path, count: int) -> list[str]:
    """The first `count` corpus bodies of 200-2000 characters (replies of a usual size)."""
    bodies: list[str] = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            body = json.loads(line)["body"]
            if 200 <= len(body) <= 2000:
                bodies.append(body)
                if len(bodies) == count:
                    break
    return bodies


def add_watchers(db_path: Path, thread_id: int, unwatched_id: int) -> None:
    """1,000 members with confirmed addresses watching the thread, e-mailed at once, in bulk."""
    from sqlalchemy import delete, insert, select, update

    from forum import create_app
    from forum.database import utcnow
    from forum.extensions import db
    from forum.models import (
        EmailPreference,
        Frequency,
        Kind,
        Member,
        Subscription,
        WatchLevel,
    )

    app = create_app(
        {
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "SEARCH_INDEX_DIR": str(db_path.parent / "replies-search_index"),
            "TASK_QUEUE_URL": "memory://",
            # the benchmark's members are all new; the new-member limits are not what is measured
            "HELD_FIRST_POSTS": 0,
            "NEW_MEMBER_LINK_CAP": 100,
        }
    )
    now = utcnow()
    with app.app_context():
        session = db.session
        # only the 1,000 watch the one thread; nobody watches the other (the seeded authors
        # watched both on posting), and the replying member starts watching neither
        session.execute(
            delete(Subscription).where(Subscription.thread_id.in_([thread_id, unwatched_id]))
        )
        session.execute(update(Member).where(Member.handle == WRITER).values(auto_watch=False))
        session.execute(
            insert(Member),
            [
                {
                    "handle": f"watcher{n:04d}",
                    "display_name": f"Watcher {n}",
                    "password_hash": None,
                    "email": f"watcher{n:04d}@example.test",
                    "email_confirmed_at": now,
                }
                for n in range(WATCHERS)
            ],
        )
        ids = list(session.scalars(select(Member.id).where(Member.handle.like("watcher%"))))
        assert len(ids) == WATCHERS
        session.execute(
            insert(Subscription),
            [{"member_id": i, "thread_id": thread_id, "level": WatchLevel.WATCHING} for i in ids],
        )
        session.execute(
            insert(EmailPreference),
            [
                {"member_id": i, "kind": Kind.WATCHED_REPLY, "frequency": Frequency.IMMEDIATELY}
                for i in ids
            ],
        )
        session.commit()
        db.engine.dispose()


def db_query(db_path: Path, sql: str, *params) -> list[tuple]:
    connection = sqlite3.connect(db_path, timeout=30)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def db_write(db_path: Path, sql: str, *params) -> int:
    connection = sqlite3.connect(db_path, timeout=30)
    try:
        with connection:
            return connection.execute(sql, params).rowcount
    finally:
        connection.close()


def flush_queue(tasks_path: Path) -> None:
    """Empty Huey's queue of the delivery tasks the replies of part 1 queued (nobody ran them)."""
    from huey import SqliteHuey

    SqliteHuey("forum", filename=str(tasks_path)).flush()


# the figures -------------------------------------------------------------------------------------


def reply_latencies(browser: Browser, threads: dict, samples: int, body: str) -> dict:
    """Alternated replies to the watched and the unwatched thread; ms per kind."""
    tokens = {name: browser.csrf(thread_path(t)) for name, t in threads.items()}
    timings: dict[str, list[float]] = {name: [] for name in threads}
    names = list(threads)
    for n in range(WARM_REPLIES + samples):
        order = names if n % 2 == 0 else names[::-1]  # ABBA: a drift hits both alike
        for name in order:
            form = {"csrf_token": tokens[name], "body": f"{body}\n\nReply {n} ({name})."}
            started = time.perf_counter()
            status, _, text = browser.go("POST", f"/t/{threads[name]['id']}/reply", form)
            elapsed = (time.perf_counter() - started) * 1000
            if status not in (302, 303):
                raise RuntimeError(f"reply to the {name} thread answered {status}: {text[:500]}")
            if n >= WARM_REPLIES:
                timings[name].append(elapsed)
    return timings


def wait_worker_idle(db_path: Path, worker: BackgroundProcess, timeout: float = 120) -> float:
    started = time.monotonic()
    while True:
        if worker.process.poll() is not None:
            raise RuntimeError(f"the jobs worker exited:\n{worker.log_text()[-3000:]}")
        waiting = db_query(
            db_path, "SELECT count(*) FROM notification_events WHERE processed_at IS NULL"
        )[0][0]
        mail = db_query(
            db_path, "SELECT count(*) FROM mail_deliveries WHERE status IN ('pending', 'sending')"
        )[0][0]
        if not waiting and not mail:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the worker left {waiting} events and {mail} e-mails waiting")
        time.sleep(0.05)


def fanout_once(browser, db_path, inbox, worker, thread, body, run) -> tuple[float, float]:
    """One watched reply; seconds until its notifications are committed, and its e-mails in."""
    token = browser.csrf(thread_path(thread))
    # earlier runs' notifications are read, so this reply makes 1,000 fresh ones (not merges)
    db_write(db_path, "UPDATE notifications SET is_read = 1 WHERE is_read = 0")
    db_write(db_path, "UPDATE members SET unread_notifications = 0")
    inbox.clear()
    form = {"csrf_token": token, "body": f"{body}\n\nFan-out run {run}."}
    started = time.perf_counter()
    status, _, _ = browser.go("POST", f"/t/{thread['id']}/reply", form)
    if status not in (302, 303):
        raise RuntimeError(f"the watched reply answered {status}")
    notified = mailed = None
    deadline = time.monotonic() + FANOUT_TIMEOUT
    checked = 0.0
    while mailed is None or notified is None:
        now = time.perf_counter()
        if mailed is None and len(inbox.messages) >= WATCHERS:
            mailed = now - started
        if notified is None and now - checked >= 0.02:  # the inbox is cheap, SQLite less so
            checked = now
            fresh = db_query(
                db_path,
                "SELECT count(*) FROM notifications WHERE thread_id = ? AND is_read = 0",
                thread["id"],
            )[0][0]
            if fresh >= WATCHERS:
                notified = now - started
        if worker.process.poll() is not None:
            raise RuntimeError(f"the jobs worker exited:\n{worker.log_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"after {FANOUT_TIMEOUT} s: {len(inbox.messages)} e-mails of {WATCHERS}"
            )
        time.sleep(0.01)
    wait_worker_idle(db_path, worker)
    fresh, unread = db_query(
        db_path,
        "SELECT count(*), sum(m.unread_notifications) FROM notifications n "
        "JOIN members m ON m.id = n.member_id WHERE n.thread_id = ? AND n.is_read = 0",
        thread["id"],
    )[0]
    if fresh != WATCHERS or len(inbox.messages) != WATCHERS or unread != WATCHERS:
        raise RuntimeError(
            f"the reply made {fresh} notifications (unread counters {unread}) and "
            f"{len(inbox.messages)} e-mails, not {WATCHERS}"
        )
    return notified, mailed


def bare_smtp(url: str, messages: list) -> float:
    """The same messages sent by a bare smtplib loop over one connection; seconds."""
    parts = urllib.parse.urlsplit(url)
    started = time.perf_counter()
    with smtplib.SMTP(parts.hostname, parts.port, timeout=30) as connection:
        for message in messages:
            connection.send_message(message)
    return time.perf_counter() - started


def check_page(port: int, cookie: str, path: str, want_unread: bool) -> None:
    status, _, html = request(port, "GET", path, cookie)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    posts = len(re.findall(r'id="p\d+"', html))
    if "Log out" not in html and "logout" not in html:
        raise RuntimeError(f"{path} on port {port} is not logged in")
    if want_unread and "unread-count" not in html:
        raise RuntimeError(f"{path} on port {port} shows no unread count")
    if posts != PAGE_POSTS:
        raise RuntimeError(f"{path} on port {port} shows {posts} posts, not {PAGE_POSTS}")


def page_rates(servers: dict, cookies: dict, path: str, rounds: int, duration: int, script):
    loads: dict[str, Load | None] = {name: None for name in servers}
    for name, server in servers.items():  # warm both workers of each
        wrk_in(server, cookies[name], path, WARMUP, script)
    names = list(servers)
    for n in range(rounds):
        for name in names if n % 2 == 0 else names[::-1]:
            load = wrk_in(servers[name], cookies[name], path, duration, script)
            loads[name] = load if loads[name] is None else loads[name] + load
            print(f"  round {n + 1} {name:<4} {load.rate:>7.1f} req/s  p99 {load.p99:.1f} ms")
    return loads


def wrk_in(server: Server, cookie: str, path: str, seconds: int, script: Path) -> Load:
    """pages.wrk with the member's session cookie (a Lua script setting the header)."""
    lua = script.with_name(f"cookie-{server.port}.lua")
    if not lua.exists():
        lua.write_text(f'wrk.headers["Cookie"] = {json.dumps(cookie)}\n' + WRK_SCRIPT)
    return wrk(server.url(path), seconds, lua, CONNECTIONS)


# main --------------------------------------------------------------------------------------------


def main() -> int:
    args = parse_args(
        __doc__.splitlines()[0], f"{QUICK_SAMPLES} replies of each kind, 1 fan-out, 2 s loads"
    )
    if not Path(WRK).exists():
        print(f"wrk not found at {WRK} (apt-get install -y wrk)", file=sys.stderr)
        return 2
    corpus = args.corpus if args.corpus.exists() else None
    quick = args.quick
    samples = QUICK_SAMPLES if quick else SAMPLES
    fanout_runs = QUICK_FANOUT_RUNS if quick else FANOUT_RUNS
    rounds = QUICK_ROUNDS if quick else ROUNDS
    duration = QUICK_DURATION if quick else DURATION
    bars = Bars()
    table: list[tuple[str, str, str, str]] = []  # figure, value, bar, verdict
    procs: list[BackgroundProcess] = []
    sys.path.insert(0, str(PROJECT_ROOT))
    from tests.smtp import smtp_server

    with tempfile.TemporaryDirectory(prefix="forum-bench-notifications-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            with smtp_server() as (inbox, mail_url):
                heading(f"Setup{' (quick)' if quick else ''}")
                bodies = (
                    corpus_bodies(corpus, PAGE_POSTS)
                    if corpus
                    else [f"Post {n}: " + "words of a usual reply " * 20 for n in range(20)]
                )
                print(
                    f"post bodies: {len(bodies)} from {corpus.name if corpus else 'a template'} "
                    f"({min(map(len, bodies))}-{max(map(len, bodies))} characters)"
                )
                before = tmp / "forum-before"
                before.mkdir()
                archive = subprocess.run(
                    ["git", "archive", BEFORE_COMMIT],
                    cwd=PROJECT_ROOT,
                    capture_output=True,
                    check=True,
                ).stdout
                subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
                trees = {"old": before, "new": PROJECT_ROOT}
                envs = {name: tree_env(root, tmp, name) for name, root in trees.items()}
                envs["replies"] = tree_env(PROJECT_ROOT, tmp, "replies", FORUM_MAIL_URL=mail_url)
                for name, root in trees.items():
                    package = check_tree(root, envs[name], want_tasks=name == "new")
                    print(f"{name}: forum imported from {package}")
                page_thread = [["page", "Benchmark: a 20-post thread", PAGE_POSTS]]
                seeded = {}
                for name, root in trees.items():
                    flask(root, envs[name], "db", "upgrade")
                    seeded[name] = seed(root, envs[name], tmp, name, bodies, page_thread)
                # the new code's member sees an unread count: the 19 replies, one notification
                flask(PROJECT_ROOT, envs["new"], "jobs", "run")
                flask(PROJECT_ROOT, envs["replies"], "db", "upgrade")
                seeded["replies"] = seed(
                    PROJECT_ROOT,
                    envs["replies"],
                    tmp,
                    "replies",
                    bodies,
                    [
                        ["watched", "Benchmark: watched by 1,000", 2],
                        ["unwatched", "Benchmark: watched by nobody", 2],
                    ],
                )
                replies_db = tmp / "replies.db"
                started = time.perf_counter()
                add_watchers(
                    replies_db,
                    seeded["replies"]["threads"]["watched"]["id"],
                    seeded["replies"]["threads"]["unwatched"]["id"],
                )
                print(
                    f"{WATCHERS} watchers (members, subscriptions, e-mail preferences) inserted "
                    f"in bulk in {time.perf_counter() - started:.1f} s"
                )
                # the seeding's own events (no watchers then) are not part of any figure
                db_write(
                    replies_db,
                    "UPDATE notification_events SET processed_at = CURRENT_TIMESTAMP "
                    "WHERE processed_at IS NULL",
                )

                # 1. reply latency ---------------------------------------------------------
                heading(
                    f"1. Reply latency: POST /t/<id>/reply, {samples} of each kind alternated "
                    f"(after {WARM_REPLIES} unmeasured), no jobs worker running"
                )
                server = Server("replies", tmp, PROJECT_ROOT, envs["replies"])
                procs.append(server)
                server.wait_ready()
                writer = Browser(server.port)
                writer.log_in(WRITER)
                threads = seeded["replies"]["threads"]
                reply_body = bodies[3]
                timings = reply_latencies(writer, threads, samples, reply_body)
                stats = {
                    name: (median(values), percentile(values, 95))
                    for name, values in timings.items()
                }
                print(f"{'thread':<34} {'median':>8} {'p95':>8} {'min':>8} {'max':>8}   (ms)")
                for name, values in timings.items():
                    label = f"{name} ({WATCHERS if name == 'watched' else 0} watchers)"
                    print(
                        f"{label:<34} {stats[name][0]:>8.1f} {stats[name][1]:>8.1f} "
                        f"{min(values):>8.1f} {max(values):>8.1f}"
                    )
                waiting = db_query(
                    replies_db,
                    "SELECT count(*) FROM notification_events WHERE processed_at IS NULL",
                )[0][0]
                print(f"({waiting} notification events left waiting: no worker ran)")
                for i, what in enumerate(("median", "p95")):
                    ratio = stats["watched"][i] / stats["unwatched"][i]
                    ok = ratio <= 1 + REPLY_TOLERANCE
                    figure = f"reply latency {what}, watched/unwatched"
                    value = (
                        f"{stats['watched'][i]:.1f} / {stats['unwatched'][i]:.1f} ms = {ratio:.2f}x"
                    )
                    bar = f"<= {1 + REPLY_TOLERANCE:.2f}x"
                    table.append((figure, value, bar, "PASS" if ok else "FAIL"))
                    bars.check(figure, ok, f"{value} (bar {bar})")
                # what part 1 left is nobody's figure: its events handled, its tasks dropped
                db_write(
                    replies_db,
                    "UPDATE notification_events SET processed_at = CURRENT_TIMESTAMP "
                    "WHERE processed_at IS NULL",
                )
                flush_queue(tmp / "replies-tasks.sqlite")

                # 2. fan-out -----------------------------------------------------------------
                heading(
                    f"2. Fan-out of one reply to {WATCHERS} watchers: `flask --app forum jobs "
                    f"worker` (2 threads, Huey on SQLite), e-mail to aiosmtpd on loopback"
                )
                worker = BackgroundProcess(
                    "worker",
                    tmp,
                    [sys.executable, "-m", "flask", "--app", "forum", "jobs", "worker"],
                    PROJECT_ROOT,
                    envs["replies"],
                )
                procs.append(worker)
                # the worker is up when it has handled a reply's event (nobody to notify)
                token = writer.csrf(thread_path(threads["unwatched"]))
                writer.go(
                    "POST",
                    f"/t/{threads['unwatched']['id']}/reply",
                    {"csrf_token": token, "body": reply_body + "\n\nWaking the worker."},
                )
                print(f"worker up and idle after {wait_worker_idle(replies_db, worker):.1f} s")
                print(
                    f"{'run':<5} {'notified s':>10} {'e-mailed s':>10} {'ms/message':>10} "
                    f"{'bare smtplib s':>14} {'ms/message':>10} {'ratio':>7}"
                )
                runs = []
                for run in range(1, fanout_runs + 1):
                    notified, mailed = fanout_once(
                        writer, replies_db, inbox, worker, threads["watched"], reply_body, run
                    )
                    messages = inbox.messages
                    inbox.clear()
                    bare = bare_smtp(mail_url, messages)
                    if len(inbox.messages) != len(messages):
                        raise RuntimeError("the bare loop's messages did not all arrive")
                    runs.append((notified, mailed, bare))
                    print(
                        f"{run:<5} {notified:>10.2f} {mailed:>10.2f} "
                        f"{mailed / WATCHERS * 1000:>10.2f} {bare:>14.2f} "
                        f"{bare / WATCHERS * 1000:>10.2f} {mailed / bare:>6.1f}x"
                    )
                notified = median([r[0] for r in runs])
                mailed = median([r[1] for r in runs])
                bare = median([r[2] for r in runs])
                sample = messages[0]
                print(
                    f"(a message: {len(sample.as_bytes())} bytes, text and HTML parts; "
                    f"{'median of ' + str(len(runs)) + ' runs' if len(runs) > 1 else 'one run'}"
                    "; each run's 1,000 notifications are fresh rows, the last run's marked read)"
                )
                table.append(
                    (
                        "fan-out: 1,000 notifications committed",
                        f"{notified:.2f} s",
                        "none set",
                        "INFO",
                    )
                )
                table.append(
                    (
                        "fan-out: 1,000 e-mails received",
                        f"{mailed:.2f} s = {mailed / WATCHERS * 1000:.2f} ms/message; bare "
                        f"smtplib {bare:.2f} s = {bare / WATCHERS * 1000:.2f} ms/message; "
                        f"{mailed / bare:.1f}x",
                        "none set",
                        "INFO",
                    )
                )
                bars.info(
                    f"fan-out: notifications in {notified:.2f} s, e-mails in {mailed:.2f} s "
                    f"({mailed / WATCHERS * 1000:.2f} ms/message), {mailed / bare:.1f}x a bare "
                    f"smtplib loop ({bare / WATCHERS * 1000:.2f} ms/message)"
                )
                worker.stop()
                server.stop()

                # 3. thread page -------------------------------------------------------------
                heading(
                    f"3. Thread page ({PAGE_POSTS} posts, logged in): wrk -t2 -c{CONNECTIONS}, "
                    f"{rounds} round(s) of {duration} s per side alternated, new code vs "
                    f"{BEFORE_COMMIT}"
                )
                servers = {
                    name: Server(f"page-{name}", tmp, root, envs[name])
                    for name, root in trees.items()
                }
                procs.extend(servers.values())
                cookies, paths = {}, {}
                for name, page_server in servers.items():
                    page_server.wait_ready()
                    browser = Browser(page_server.port)
                    browser.log_in(READER)
                    cookies[name] = browser.cookie
                    paths[name] = thread_path(seeded[name]["threads"]["page"])
                    status = request(page_server.port, "GET", "/notifications", browser.cookie)[0]
                    if (status == 200) != (name == "new"):
                        raise RuntimeError(f"{name} server: /notifications answered {status}")
                    request(page_server.port, "GET", paths[name], browser.cookie)  # read mark
                    check_page(page_server.port, browser.cookie, paths[name], name == "new")
                if paths["old"] != paths["new"]:
                    raise RuntimeError(f"the thread pages differ: {paths}")
                print(
                    f"{paths['new']}: {PAGE_POSTS} posts, logged in as {READER} on both; the "
                    "new page shows the header's unread count; /notifications is 404 on the old"
                )
                script = tmp / "report.lua"
                loads = page_rates(servers, cookies, paths["new"], rounds, duration, script)
                old, new = loads["old"], loads["new"]
                for name, load in loads.items():
                    errors = load.socket_errors + load.non2xx
                    print(
                        f"{name:<4} {load.rate:>7.1f} req/s  p50 {load.p50:.1f}  p99 "
                        f"{load.p99:.1f} ms" + (f"  {errors} errors/non-2xx" if errors else "")
                    )
                    if errors:
                        bars.check(f"thread page answers ({name})", False, f"{errors} errors")
                ratio = new.rate / old.rate
                ok = ratio >= 1 - PAGE_TOLERANCE
                value = f"{new.rate:.1f} / {old.rate:.1f} req/s = {ratio:.1%}"
                bar = f">= {1 - PAGE_TOLERANCE:.0%}"
                table.append(("thread page req/s, new/old", value, bar, "PASS" if ok else "FAIL"))
                bars.check("thread page req/s, new/old", ok, f"{value} (bar {bar})")
        finally:
            for proc in reversed(procs):
                proc.stop()

    heading("Summary")
    width = max(len(row[0]) for row in table)
    for figure, value, bar, verdict in table:
        print(f"{verdict:<5} {figure:<{width}}  {value}  (bar: {bar})")
    return 1 if bars.failed else 0


if __name__ == "__main__":
    sys.exit(main())
