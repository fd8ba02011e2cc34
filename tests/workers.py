"""Writer processes for tests: each builds its own app from the test app's config (a fresh
process, as a gunicorn worker would be), waits at a barrier so all write at the same moment, and
sends back what it did and every exception it met. The test fails on any error."""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from tests.databases import config_for_tests

TIMEOUT = 240  # seconds for a worker to report; a hung worker fails the test instead of hanging it
SPAWN = multiprocessing.get_context("spawn")  # events and counters shared with workers come from it


def _run_worker(number: int, job: Callable, config: dict, args: tuple, start, results) -> None:
    """Build an app, wait for the others, run the job; report its tally and any exceptions."""
    report: dict = {"worker": number, "errors": []}
    try:
        from forum import create_app
        from forum.extensions import db

        app = create_app(config)
        start.wait(timeout=TIMEOUT)
        with app.app_context():
            try:
                job(report, *args)
            finally:
                db.engine.dispose()
    except Exception:
        report["errors"].append(traceback.format_exc())
    results.put(report)


def attempt(report: dict, action: Callable, *args):
    """Call one service; an exception is recorded (the test fails on it) and the work goes on."""
    try:
        return action(*args)
    except Exception:
        report["errors"].append(traceback.format_exc())
        return None


@contextmanager
def workers_running(
    app: Flask, tmp_path: Path, jobs: list[tuple[Callable, tuple]]
) -> Iterator[list[dict]]:
    """Start one process per (job, args), all writing at once, and run the block meanwhile; on
    leaving, wait for them and fill the yielded list with their reports, in order."""
    config = config_for_tests(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == app.config["SQLALCHEMY_DATABASE_URI"]
    start, results = SPAWN.Barrier(len(jobs)), SPAWN.Queue()
    processes = [
        SPAWN.Process(target=_run_worker, args=(n, job, config, args, start, results))
        for n, (job, args) in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    reports: list[dict] = []
    try:
        yield reports
        reports.extend(
            sorted((results.get(timeout=TIMEOUT) for _ in processes), key=lambda r: r["worker"])
        )
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert [p.exitcode for p in processes] == [0] * len(processes)
    errors = [error for report in reports for error in report["errors"]]
    assert errors == [], "\n".join(errors)


def run_workers(app: Flask, tmp_path: Path, jobs: list[tuple[Callable, tuple]]) -> list[dict]:
    """Start one process per (job, args), all writing at once; returns their reports in order."""
    with workers_running(app, tmp_path, jobs) as reports:
        pass
    return reports
