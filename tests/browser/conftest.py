"""Real-browser fixtures: the forum served by gunicorn, driven in Debian's Chromium by Playwright.

One server per database for the whole session (starting gunicorn per test is too slow) and a fresh
browser context per test. A test fails on any browser console error, uncaught page error or
response with status 500 or above. Without Chromium (or axe-core, for the accessibility checks)
the tests skip with the reason; FORUM_REQUIRE_BROWSER=1 turns such skips into failures (CI).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.actions import MODERATOR, PROJECT_ROOT, Forum
from tests.databases import pg_schema
from tests.servers import forum_env, gunicorn, run_flask
from tests.smtp import Inbox, smtp_server

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright's own download cannot work here
# Without the background-networking flags Chromium keeps dialling Google's hosts on a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_JS = Path(
    os.environ.get("FORUM_AXE_PATH")
    or PROJECT_ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
)
REQUIRE_BROWSER = os.environ.get("FORUM_REQUIRE_BROWSER") == "1"
PROBLEMS = pytest.StashKey[list[str]]()


def need_browser(reason: str) -> None:
    """Skip a browser test that cannot run here, or fail under FORUM_REQUIRE_BROWSER=1."""
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (FORUM_REQUIRE_BROWSER=1 turns this skip into a failure)")
    pytest.skip(reason)


# ---- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, once per session; Playwright gives it a fresh temporary profile."""
    if not CHROMIUM.exists():
        need_browser(f"the browser tests need Chromium at {CHROMIUM} (Debian package chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, injected with page.evaluate (the site's CSP refuses a script tag)."""
    if not AXE_JS.exists():
        need_browser(
            f"the accessibility tests need axe-core at {AXE_JS} "
            "(npm install --prefix build/axe axe-core@4, or set FORUM_AXE_PATH)"
        )
    return AXE_JS.read_text(encoding="utf-8")


def _watch(page: Page, problems: list[str]) -> None:
    """Record what a person would never see but must not happen: script errors and server errors."""

    def on_console(message) -> None:
        if message.type == "error":
            source = message.location.get("url") or page.url
            problems.append(f"console error ({source}): {message.text}")

    def on_response(response) -> None:
        if response.status >= 500:
            problems.append(f"HTTP {response.status} for {response.request.method} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error on {page.url}: {error}"))
    page.on("response", on_response)


@pytest.fixture
def new_context(
    request, chromium: Browser, forum: Forum
) -> Iterator[Callable[..., BrowserContext]]:
    """Open fresh browser contexts (own cookies, own storage) on the forum; closed after the test.
    Options go to Playwright's new_context (timezone_id="Asia/Tokyo", ...)."""
    problems = request.node.stash.setdefault(PROBLEMS, [])
    contexts: list[BrowserContext] = []

    def open_context(**options) -> BrowserContext:
        context = chromium.new_context(base_url=forum.base_url, **options)
        context.on("page", lambda page: _watch(page, problems))
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    """A page in a fresh browser context."""
    return new_context().new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test whose pages logged errors or got a 5xx, even if its assertions held."""
    result = yield
    problems = item.stash.get(PROBLEMS, [])
    if problems:
        pytest.fail("the browser saw problems:\n  " + "\n  ".join(problems), pytrace=False)
    return result


# ---- the server --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mail_server() -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server on loopback for the session: its inbox and the FORUM_MAIL_URL for it."""
    with smtp_server() as (inbox, mail_url):
        yield inbox, mail_url


@contextmanager
def jobs_worker(env: dict[str, str], workdir: Path) -> Iterator[None]:
    """`flask jobs worker` beside the server: notification fan-out and e-mail. Fails the test
    session if it exited early or logged a traceback."""
    log = workdir / "worker.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "forum", "jobs", "worker"],
            env=env,
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        exited = process.poll()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    text = log.read_text()
    if exited is not None:
        pytest.fail(f"the jobs worker exited early with {exited}:\n{text[-5000:]}")
    if "Traceback" in text:
        pytest.fail(f"the jobs worker logged an exception:\n{text[-5000:]}")


def serve(
    database_url: str, workdir: Path, database: str, mail_server: tuple[Inbox, str]
) -> Iterator[Forum]:
    """Migrate, load the demo, add a moderator, then serve with gunicorn (2 workers, as `make run`)
    and run the jobs worker beside it, mailing to the session's SMTP server."""
    inbox, mail_url = mail_server
    listener = socket.create_server(("127.0.0.1", 0))  # bound first: the env names its URL
    env = forum_env(
        database_url,
        workdir,
        FORUM_RATELIMIT_ENABLED="0",
        FORUM_MAIL_URL=mail_url,
        FORUM_BASE_URL=f"http://127.0.0.1:{listener.getsockname()[1]}",
        FORUM_TASK_QUEUE_URL=f"sqlite:///{workdir / 'tasks.sqlite'}",
    )
    run_flask(env, workdir, "db", "upgrade")
    run_flask(env, workdir, "forum", "demo")
    run_flask(
        env,
        workdir,
        "forum",
        "create-admin",
        "--handle",
        MODERATOR.handle,
        "--display-name",
        MODERATOR.display_name,
        "--password",
        MODERATOR.password,
    )
    with (
        gunicorn(env, workdir, workers=2, listener=listener) as base_url,
        jobs_worker(env, workdir),
    ):
        yield Forum(base_url, database, inbox)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def forum(request, chromium: Browser, mail_server, tmp_path_factory) -> Iterator[Forum]:
    """The real app behind gunicorn, on a fresh SQLite file or a throwaway PostgreSQL schema."""
    workdir = tmp_path_factory.mktemp(f"forum-{request.param}")
    if request.param == "sqlite":
        yield from serve(f"sqlite:///{workdir / 'forum.db'}", workdir, "sqlite", mail_server)
    else:
        with pg_schema(workdir, migrated=False) as url:  # migrated by `flask db upgrade` above
            yield from serve(url, workdir, "postgresql", mail_server)
