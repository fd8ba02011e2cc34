"""Helpers shared by the benchmarks: options, a fresh migrated forum with the corpus, SQL counting,
percentiles and the PASS/FAIL lines.

Benchmarks report ratios against a baseline measured in the same run (these machines are noisy)
and never assert wall-clock thresholds in unit tests.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:  # run as `.venv/bin/python bench/<name>.py`
    sys.path.insert(0, str(PROJECT_ROOT))

DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "data" / "20news" / "train.jsonl.gz"
QUICK_POSTS = 3000
SECRET_KEY = "bench-secret-key"


def parse_args(description: str, quick_help: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"JSON-lines corpus to import (default: {DEFAULT_CORPUS})",
    )
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser.parse_args()


def corpus_lines(path: Path, limit: int | None, dest_dir: Path) -> Path:
    """The corpus itself, or its first `limit` lines copied into dest_dir (threads stay whole
    except perhaps the last one, since a thread's posts come in order)."""
    if limit is None:
        return path
    opener = gzip.open if path.suffix == ".gz" else open
    dest = dest_dir / "corpus.jsonl"
    with opener(path, "rb") as source, open(dest, "wb") as out:
        for count, line in enumerate(source):
            if count >= limit:
                break
            out.write(line)
    return dest


def bench_config(tmp: Path) -> dict:
    """A forum on a temp SQLite file and index; rate limits off; the import leaves the outbox to
    the rebuild (SEARCH_DRAIN_AFTER_COMMIT off), as `flask search rebuild` after an import would."""
    return {
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'forum.db'}",
        "SEARCH_INDEX_DIR": str(tmp / "search_index"),
        "RATELIMIT_ENABLED": False,
        "SEARCH_DRAIN_AFTER_COMMIT": False,
        # the benchmark's members are all new; the new-member limits are not what is measured
        "HELD_FIRST_POSTS": 0,
        "NEW_MEMBER_LINK_CAP": 100,
        # members made by the benchmark need a password; hashing cost is not what is measured
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
    }


def make_forum(tmp: Path):
    """A fresh app on a migrated database in tmp."""
    from flask_migrate import upgrade

    from forum import create_app

    app = create_app(bench_config(tmp))
    with app.app_context():
        upgrade()
    return app


def import_corpus(app, corpus: Path):
    """Import with the app's importer; returns (report, seconds)."""
    from forum.importer import import_file

    with app.app_context():
        started = time.perf_counter()
        report = import_file(corpus)
        return report, time.perf_counter() - started


class QueryCounter:
    """Counts SQL statements sent on the app's engine (a before_cursor_execute listener)."""

    def __init__(self, app) -> None:
        from forum.extensions import db

        with app.app_context():
            self.engine = db.engine
        self.count = 0
        self.statements: list[str] = []

    def _listen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        self.statements.append(statement)

    @contextmanager
    def counting(self) -> Iterator[QueryCounter]:
        from sqlalchemy import event

        self.count = 0
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._listen)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._listen)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


class Bars:
    """Collects PASS/FAIL lines; the exit status is 1 when a bar failed."""

    def __init__(self) -> None:
        self.failed: list[str] = []
        self.lines: list[str] = []

    def check(self, name: str, ok: bool, detail: str) -> None:
        line = f"{'PASS' if ok else 'FAIL'}  {name}: {detail}"
        self.lines.append(line)
        if not ok:
            self.failed.append(name)

    def info(self, line: str) -> None:
        self.lines.append(f"INFO  {line}")

    def report(self) -> int:
        print()
        print("Bars")
        for line in self.lines:
            print(f"  {line}")
        return 1 if self.failed else 0


def heading(text: str) -> None:
    print()
    print(text)
    print("-" * len(text))


class BackgroundProcess:
    """A child process in its own process group, its output in a log file; stop() ends it."""

    def __init__(self, name: str, log_dir: Path, argv: list[str], cwd: Path, env: dict) -> None:
        self.name = name
        self.log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.log.close()
