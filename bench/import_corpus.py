"""Import the 20news corpus into a fresh database and compare with parsing and rendering alone.

The baseline, measured in the same run on the same lines, is what any import must do: read the
file, parse each JSON line and render each body with forum.markup.render_markdown. The ratio
import / baseline says how much the database work (lookups, inserts, counters, outbox rows, one
transaction per batch) adds on top of rendering.

    .venv/bin/python bench/import_corpus.py                      # the whole corpus into SQLite
    .venv/bin/python bench/import_corpus.py --limit 1000         # a quick run
    .venv/bin/python bench/import_corpus.py --database-url 'postgresql+psycopg://...'  # also PG

The PostgreSQL database (or schema, via `?options=-csearch_path%3Dname`) must have no posts: it
is migrated to head and filled. The search index is not built, as on a fresh `forum import`:
changed posts wait in the outbox for `flask --app forum search rebuild`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

from forum import PROJECT_ROOT, create_app
from forum.config import Config

DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "data" / "20news" / "train.jsonl.gz"


def corpus_file(corpus: Path, limit: int | None, workdir: Path) -> Path:
    """The file both runs read: the corpus itself, or its first `limit` lines."""
    if limit is None:
        return corpus
    opener = gzip.open if corpus.suffix == ".gz" else open
    part = workdir / f"first-{limit}.jsonl"
    with opener(corpus, "rb") as source, part.open("wb") as target:
        for number, line in enumerate(source):
            if number >= limit:
                break
            target.write(line)
    return part


class Timer:
    """Wall-clock and this process's CPU seconds (on a busy machine the two part ways)."""

    def __enter__(self) -> Timer:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:8.2f} s wall {self.cpu:8.2f} s cpu"


def baseline(path: Path) -> tuple[Timer, int]:
    """Time to read, parse and render every body (and signature); returns (timer, posts)."""
    from forum.importer import read_lines
    from forum.markup import render_markdown

    limit = Config.MAX_IMPORT_POST_LENGTH
    posts = 0
    with Timer() as timer:
        for _number, line in read_lines(path):
            obj = json.loads(line)
            if "body" in obj:
                if len(obj["body"]) <= limit:
                    render_markdown(obj["body"])
                    posts += 1
            elif obj.get("signature"):
                render_markdown(obj["signature"])
    return timer, posts


def bench_config(url: str, workdir: Path) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "bench",
        "SEARCH_INDEX_DIR": str(workdir / "search_index"),
        "RATELIMIT_ENABLED": False,
    }


def import_into(url: str, path: Path, workdir: Path) -> dict:
    """Migrate, import once (timed), import again (timed: nothing new), return the figures."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from forum.extensions import db
    from forum.importer import import_file
    from forum.models import Post
    from forum.search import get_search

    app = create_app(bench_config(url, workdir))
    with app.app_context():
        upgrade()
        if db.session.scalar(select(func.count()).select_from(Post)):
            sys.exit(f"{url} already holds posts; give an empty database or schema")
        db.session.remove()
        with Timer() as first:
            report = import_file(path)
        with Timer() as second:
            again = import_file(path)
        pending = get_search(app).pending()
        db.engine.dispose()
    assert again.posts_created == 0, "a re-import created posts"
    return {
        "timer": first,
        "report": report,
        "reimport": second,
        "already_there": again.posts_already_there,
        "outbox": pending,
    }


def print_run(name: str, figures: dict, base: Timer) -> None:
    report, timer = figures["report"], figures["timer"]
    print(f"{name}:")
    print(
        f"  import             {timer}  {report.posts_created / timer.wall:6.0f} posts/s  "
        f"({report.members_created:,} members, {report.threads_created:,} threads, "
        f"{report.posts_created:,} posts created; {len(report.skipped)} lines skipped)"
    )
    print(
        f"  ratio              {timer.wall / base.wall:8.2f} x the baseline wall, "
        f"{timer.cpu / base.cpu:.2f} x its cpu (this process only; PostgreSQL works in its own)"
    )
    print(
        f"  re-import          {figures['reimport']}  "
        f"(nothing new: {figures['already_there']:,} posts already there)"
    )
    print(f"  search outbox rows {figures['outbox']:8,}  (index not built during the import)")
    for line in report.skipped[:5]:
        print(f"  skipped {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="JSON lines (.gz ok)")
    parser.add_argument("--limit", type=int, help="import only the first N lines (a quick run)")
    parser.add_argument("--database-url", help="also import into this empty PostgreSQL database")
    args = parser.parse_args()
    if not args.corpus.exists():
        sys.exit(f"no corpus at {args.corpus}")

    with tempfile.TemporaryDirectory(prefix="forum-import-bench-") as tmp:
        workdir = Path(tmp)
        path = corpus_file(args.corpus, args.limit, workdir)
        base, posts = baseline(path)
        print(f"corpus: {path.name if args.limit else args.corpus} ({posts:,} posts)")
        print(f"baseline (parse JSON + render Markdown) {base}  {posts / base.wall:6.0f} posts/s")
        sqlite = import_into(f"sqlite:///{workdir / 'forum.db'}", path, workdir / "sqlite")
        print_run("SQLite (WAL, fresh file)", sqlite, base)
        if args.database_url:
            pg = import_into(args.database_url, path, workdir / "postgresql")
            print_run("PostgreSQL", pg, base)


if __name__ == "__main__":
    main()
