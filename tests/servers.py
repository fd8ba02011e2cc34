"""Real servers for tests: the forum under gunicorn on a free loopback port, and the flask CLI."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60  # seconds gunicorn may take to answer its first request
CHEAP_ARGON2 = {  # argon2id stays argon2id, just cheap enough for a test suite
    "FORUM_ARGON2_TIME_COST": "1",
    "FORUM_ARGON2_MEMORY_COST": "1024",
    "FORUM_ARGON2_PARALLELISM": "1",
}


def run_flask(env: dict[str, str], cwd: Path, *args: str) -> str:
    """Run `flask --app forum ...` as an operator would; fail the test with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "forum", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextmanager
def gunicorn(
    env: dict[str, str],
    workdir: Path,
    workers: int = 2,
    listener: socket.socket | None = None,
    settings_file: bool = False,
) -> Iterator[str]:
    """Serve the forum with gunicorn; yields its base URL. Fails the test if it logged a traceback.

    Give a listener bound beforehand when the environment must name the URL (FORUM_BASE_URL);
    settings_file runs it with the project's gunicorn.conf.py, as `make run` does.
    """
    # A socket bound here and handed over: no window in which another process takes the port.
    listener = listener or socket.create_server(("127.0.0.1", 0))
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    log = workdir / f"gunicorn-{port}.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "--workers", str(workers)),
                *(("-c", str(PROJECT_ROOT / "gunicorn.conf.py")) if settings_file else ()),
                *("--bind", f"fd://{listener.fileno()}", "--access-logfile", "-"),
                "forum:create_app()",
            ],
            env=env,
            cwd=workdir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()],
        )
    listener.close()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, base_url + "/", log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if "Traceback" in (text := log.read_text()):
        pytest.fail(f"the server logged an exception:\n{text[-5000:]}")


def _wait_until_serving(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"gunicorn did not answer {url}:\n{log.read_text()}")
        time.sleep(0.1)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpMember:
    """A person's browser, minus the browser: cookies, CSRF tokens from real forms, no redirects."""

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects()
        )

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, body, timeout=60) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode(), dict(error.headers)

    def submit(self, form_page: str, action: str, data: dict) -> tuple[int, str, dict]:
        """Load the page holding the form, then post it with that page's CSRF token."""
        status, html, _ = self.request(form_page)
        assert status == 200, f"{form_page}: {status}"
        return self.request(action, {"csrf_token": self.TOKEN.search(html)[1], **data})


def forum_env(database_url: str, workdir: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "FORUM_DATABASE_URL": database_url,
        "FORUM_SEARCH_INDEX_DIR": str(workdir / "search_index"),
        "FORUM_SECRET_KEY": f"test-{os.getpid()}-{time.time_ns()}",
        # The test's own task queue and mail folder, never the project's instance/.
        "FORUM_TASK_QUEUE_URL": f"sqlite:///{workdir / 'tasks.sqlite'}",
        "FORUM_MAIL_FILE_DIR": str(workdir / "mail"),
        "FORUM_RATELIMIT_STORAGE_URI": f"forum-sqlite://{workdir / 'ratelimits.sqlite'}",
        # Browsers register at once, every person of a test from 127.0.0.1.
        "FORUM_REGISTRATION_MIN_SECONDS": "0",
        "FORUM_REGISTRATIONS_PER_IP_PER_DAY": "100000",
        # Fresh members' posts appear at once, as the tests expect, until a test has an admin
        # save the new-member settings (tests/browser/test_held_post_flows.py)
        "FORUM_HELD_FIRST_POSTS": "0",
        **CHEAP_ARGON2,
        **settings,
    }
