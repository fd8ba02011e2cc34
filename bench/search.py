"""Search benchmark: import + index time and query latency, each against bare Whoosh in the same run.

    .venv/bin/python bench/search.py [--quick] [--corpus PATH]

1. Imports the corpus into a fresh migrated SQLite database (the app's importer, outbox left to
   the rebuild) and builds the index with `get_search(app).rebuild()`, as `flask search rebuild`
   does; compares that with bare Whoosh (`index.create_in`, the app's schema, one writer, one
   commit) indexing the same documents (same fields, same plain text, read from the database
   before the clock starts). Order: rebuild right after the import (the outbox still holds every
   imported post), bare, rebuild again (outbox empty), bare; wall and CPU time, ratios against
   the mean of the bare runs. Bar (DESIGN §7): at most 2x bare, goal 1.5x.
2. Times 200 realistic queries (single words, two words, phrases, author:/board: operators,
   misspellings made by one edit of frequent words; fixed seed) through the search service,
   highlights included, against the same queries on a bare Whoosh searcher (QueryParser, limit
   10, stored fields, no highlights, no collapsing), alternating query by query; once on the
   index as the import + first rebuild leave it, once after the second rebuild. Bar: service p95
   well under the search page's 100 ms. Also counts SQL statements per search.
3. Times a worker's first `speller()` call (the spelling corrector over the index vocabulary).

Exit status 1 when a bar fails.
"""

from __future__ import annotations

import itertools
import random
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC
from pathlib import Path

from _common import (
    QUICK_POSTS,
    Bars,
    QueryCounter,
    bench_config,
    corpus_lines,
    heading,
    import_corpus,
    make_forum,
    median,
    parse_args,
    percentile,
)

QUERY_MIX = {  # 200 queries
    "single word": 50,
    "two words": 40,
    "phrase": 30,
    "author:": 20,
    "board:": 20,
    "misspelling": 40,
}
QUICK_QUERIES = 0.5  # --quick runs half of each kind
SEED = 20  # queries are the same from run to run
WORD_RE = re.compile(r"[a-z]+")
REBUILD_BAR, REBUILD_GOAL = 2.0, 1.5
SEARCH_P95_BAR_MS = 100.0


# indexing ------------------------------------------------------------------------------------


def bare_documents(app) -> list[dict]:
    """Every searchable post as the fields the app indexes, read in one query before timing."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.markup import plain_text
    from forum.models import Board, Member, Post, Thread

    with app.app_context():
        rows = db.session.execute(
            select(
                Post.id,
                Post.thread_id,
                Board.slug,
                Board.name,
                Member.handle,
                Member.display_name,
                Post.subject,
                Post.body_source,
                Post.created_at,
                Post.position,
                Thread.solution_post_id,
            )
            .join(Thread, Post.thread_id == Thread.id)
            .join(Board, Thread.board_id == Board.id)
            .join(Member, Post.author_id == Member.id)
            .where(Post.is_removed.is_(False), Thread.is_hidden.is_(False))
            .order_by(Post.id)
        ).all()
    return [
        {
            "post_id": str(r[0]),
            "thread_id": r[1],
            "board": r[2],
            "board_name": r[3],
            "author": r[4],
            "author_name": r[5],
            "subject": r[6],
            "body": plain_text(r[7]),
            "posted_at": r[8].astimezone(UTC).replace(tzinfo=None),
            "position": r[9],
            "solved": r[10] is not None,
        }
        for r in rows
    ]


def bare_index(documents: list[dict], path: Path) -> float:
    """Seconds for plain Whoosh to index the documents: create_in, one writer, one commit."""
    from whoosh import index

    from forum.search.index import make_schema

    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    started = time.perf_counter()
    ix = index.create_in(str(path), make_schema())
    writer = ix.writer()
    for doc in documents:
        writer.add_document(**doc)
    writer.commit()
    return time.perf_counter() - started


def timed_rebuild(app) -> tuple[int, float]:
    from forum.search import get_search

    started = time.perf_counter()
    count = get_search(app).rebuild()
    return count, time.perf_counter() - started


def pending_outbox(app) -> int:
    from forum.search import get_search

    return get_search(app).pending()


# queries -------------------------------------------------------------------------------------


def make_queries(app, vocabulary: dict[str, int], scale: float) -> list[tuple[str, str]]:
    """(kind, query text) pairs drawn from the corpus with a fixed seed."""
    from sqlalchemy import func, select
    from whoosh.analysis import STOP_WORDS

    from forum.extensions import db
    from forum.models import Board, Member, Post

    rng = random.Random(SEED)
    ranked = sorted(
        (w for w in vocabulary if w.isalpha() and len(w) >= 4 and w not in STOP_WORDS),
        key=lambda w: (-vocabulary[w], w),
    )
    frequent = ranked[20:1500]  # common words people look up (the very top are near-stop words)
    frequent_set = set(frequent)
    with app.app_context():
        bodies = db.session.scalars(
            select(Post.body_source).where(Post.is_removed.is_(False)).order_by(Post.id)
        ).all()
        authors = db.session.execute(
            select(Member.handle, func.count(Post.id))
            .join(Post, Post.author_id == Member.id)
            .group_by(Member.handle)
            .having(func.count(Post.id) >= 5)
            .order_by(Member.handle)
        ).all()
        author_posts = {
            handle: db.session.scalars(
                select(Post.body_source)
                .join(Member, Post.author_id == Member.id)
                .where(Member.handle == handle)
            ).all()
            for handle, _ in authors
        }
        boards = db.session.scalars(select(Board.slug).order_by(Board.slug)).all()

    def count(kind: str) -> int:
        return max(1, round(QUERY_MIX[kind] * scale))

    def words_of(text: str) -> list[str]:
        return WORD_RE.findall(text.lower())

    queries: list[tuple[str, str]] = []
    queries += [("single word", rng.choice(frequent)) for _ in range(count("single word"))]
    while sum(k == "two words" for k, _ in queries) < count("two words"):
        known = sorted({w for w in words_of(rng.choice(bodies)) if w in frequent_set})
        if len(known) >= 2:
            queries.append(("two words", " ".join(rng.sample(known, 2))))
    while sum(k == "phrase" for k, _ in queries) < count("phrase"):
        words = words_of(rng.choice(bodies))
        pairs = [
            (a, b)
            for a, b in itertools.pairwise(words)
            if len(a) >= 3 and len(b) >= 3 and a not in STOP_WORDS and b not in STOP_WORDS
        ]
        if pairs:
            a, b = rng.choice(pairs)
            queries.append(("phrase", f'"{a} {b}"'))
    while sum(k == "author:" for k, _ in queries) < count("author:"):
        handle = rng.choice(authors)[0]
        known = sorted(
            {w for body in author_posts[handle] for w in words_of(body) if w in frequent_set}
        )
        if known:
            queries.append(("author:", f"author:{handle} {rng.choice(known)}"))
    queries += [
        ("board:", f"board:{rng.choice(boards)} {rng.choice(frequent)}")
        for _ in range(count("board:"))
    ]
    letters = "abcdefghijklmnopqrstuvwxyz"
    while sum(k == "misspelling" for k, _ in queries) < count("misspelling"):
        word = rng.choice([w for w in frequent if len(w) >= 5])
        i = rng.randrange(len(word))
        edit = rng.choice(["delete", "insert", "replace", "transpose"])
        if edit == "delete":
            typo = word[:i] + word[i + 1 :]
        elif edit == "insert":
            typo = word[:i] + rng.choice(letters) + word[i:]
        elif edit == "replace":
            typo = word[:i] + rng.choice(letters.replace(word[i], "")) + word[i + 1 :]
        else:
            i = min(i, len(word) - 2)
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if typo != word and typo not in vocabulary:
            queries.append(("misspelling", typo))
    rng.shuffle(queries)
    return queries


class BareSearcher:
    """Plain Whoosh on the live generation: QueryParser (all words), top 10, stored fields."""

    def __init__(self, index_root: Path) -> None:
        from whoosh import index
        from whoosh.qparser import MultifieldParser

        generation = (index_root / "CURRENT").read_text().strip()
        self.ix = index.open_dir(str(index_root / generation))
        self.parser = MultifieldParser(["subject", "body"], self.ix.schema)

    def search(self, text: str) -> list[dict]:
        query = self.parser.parse(text)
        with self.ix.searcher() as searcher:
            return [hit.fields() for hit in searcher.search(query, limit=10)]


def index_shape(index_root: Path) -> str:
    """Segments and deleted documents of the live generation (a fragmented index reads slower)."""
    from whoosh import index

    generation = (index_root / "CURRENT").read_text().strip()
    ix = index.open_dir(str(index_root / generation))
    with ix.reader() as reader:
        segments = len(reader.leaf_readers())
    return (
        f"{segments} segment{'s' if segments != 1 else ''}, {ix.doc_count()} live documents, "
        f"{ix.doc_count_all() - ix.doc_count()} deleted ones still stored"
    )


def time_speller(config: dict, repeats: int) -> float:
    """Median seconds of the first speller() call in a freshly made app, as a new worker makes it."""
    from forum import create_app
    from forum.extensions import db
    from forum.search import get_search

    times = []
    for _ in range(repeats):
        app = create_app(config)
        started = time.perf_counter()
        get_search(app).speller()
        times.append(time.perf_counter() - started)
        with app.app_context():
            db.engine.dispose()
    return median(times)


def corpus_vocabulary(documents: list[dict]) -> Counter:
    """Lowercase words -> how many documents hold them (to draw realistic queries from)."""
    counts: Counter = Counter()
    for doc in documents:
        counts.update(set(WORD_RE.findall(f"{doc['subject']} {doc['body']}".lower())))
    return counts


def time_queries(app, queries: list[tuple[str, str]], index_root: Path) -> dict:
    """Service (highlights, spelling, SQL) and bare Whoosh on each query, alternating."""
    from forum.search import get_search

    service = get_search(app)
    bare_searcher = BareSearcher(index_root)
    for _, text in queries[:20]:  # warm both: caches, the speller, the OS page cache
        service.search(text)
        bare_searcher.search(text)
    service_ms: dict[str, list[float]] = {kind: [] for kind in QUERY_MIX}
    bare_ms: dict[str, list[float]] = {kind: [] for kind in QUERY_MIX}
    found = Counter()
    for kind, text in queries:
        started = time.perf_counter()
        outcome = service.search(text)
        service_ms[kind].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        bare_searcher.search(text)
        bare_ms[kind].append((time.perf_counter() - started) * 1000)
        found["with results"] += bool(outcome.hits)
        found["corrected"] += outcome.corrected_query is not None
        found["did you mean"] += outcome.suggestion is not None
        found["any word"] += outcome.any_word
    counter = QueryCounter(app)
    sql_counts = []
    for _, text in queries:
        with counter.counting():
            service.search(text)
        sql_counts.append(counter.count)

    print(f"{len(queries)} queries: {', '.join(f'{n} {k}' for k, n in found.items())}")
    print(f"{'kind':<12} {'n':>3} {'service p50':>12} {'p95':>7} {'bare p50':>9} {'p95':>7}")
    for kind in QUERY_MIX:
        s, b = service_ms[kind], bare_ms[kind]
        print(
            f"{kind:<12} {len(s):>3} {median(s):>9.1f} ms {percentile(s, 95):>7.1f} "
            f"{median(b):>6.1f} ms {percentile(b, 95):>7.1f}"
        )
    all_service = [t for times in service_ms.values() for t in times]
    all_bare = [t for times in bare_ms.values() for t in times]
    stats = {
        "s50": median(all_service),
        "s95": percentile(all_service, 95),
        "b50": median(all_bare),
        "b95": percentile(all_bare, 95),
        "sql_max": max(sql_counts),
    }
    print(
        f"{'all':<12} {len(all_service):>3} {stats['s50']:>9.1f} ms {stats['s95']:>7.1f} "
        f"{stats['b50']:>6.1f} ms {stats['b95']:>7.1f}"
    )
    print(
        f"service / bare: median {stats['s50'] / stats['b50']:.1f}x, "
        f"p95 {stats['s95'] / stats['b95']:.1f}x"
    )
    print(
        f"SQL queries per search: mean {sum(sql_counts) / len(sql_counts):.2f}, "
        f"max {max(sql_counts)}, distribution {dict(sorted(Counter(sql_counts).items()))}"
    )
    return stats


def timed(function, *args) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], f"import the first {QUICK_POSTS} posts, 100 queries")
    if not args.corpus.exists():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    bars = Bars()
    with tempfile.TemporaryDirectory(prefix="forum-bench-search-") as tmp_name:
        tmp = Path(tmp_name)
        from forum.extensions import db
        from forum.search import get_search

        corpus = corpus_lines(args.corpus, QUICK_POSTS if args.quick else None, tmp)
        app = make_forum(tmp)
        service = get_search(app)
        index_root = tmp / "search_index"

        heading(f"Import and index: {args.corpus.name}{' (quick)' if args.quick else ''}")
        report, import_seconds = import_corpus(app, corpus)
        posts = report.posts_created
        print(
            f"import       {import_seconds:7.1f} s  {posts / import_seconds:6.0f} posts/s  "
            f"({posts} posts, {report.threads_created} threads, "
            f"{report.members_created} members, {len(report.skipped)} lines skipped)"
        )
        outbox = pending_outbox(app)
        documents = bare_documents(app)
        # The rebuild an operator runs after the import: the outbox holds every imported post.
        indexed, rebuild_first, rebuild_first_cpu = timed(service.rebuild)
        shape_after_import = index_shape(index_root)
        speller_after_import = time_speller(bench_config(tmp), 1)
        scale = QUICK_QUERIES if args.quick else 1.0
        queries = make_queries(app, corpus_vocabulary(documents), scale)
        heading("Query latency on the index as import + rebuild leave it")
        print(f"index: {shape_after_import}")
        stats_after_import = time_queries(app, queries, index_root)

        heading("Indexing time")
        _, bare_first, bare_first_cpu = timed(bare_index, documents, tmp / "bare_index")
        _, rebuild_again, rebuild_again_cpu = timed(service.rebuild)
        _, bare_again, bare_again_cpu = timed(bare_index, documents, tmp / "bare_index")
        bare, bare_cpu = (bare_first + bare_again) / 2, (bare_first_cpu + bare_again_cpu) / 2
        print(f"{'':<46} {'wall':>8} {'CPU':>8} {'docs/s':>7} {'wall':>6} {'CPU':>6}")
        rows = [
            ("bare Whoosh, first", bare_first, bare_first_cpu),
            ("bare Whoosh, second", bare_again, bare_again_cpu),
            (f"rebuild after the import ({outbox} outbox rows)", rebuild_first, rebuild_first_cpu),
            ("rebuild again (outbox empty)", rebuild_again, rebuild_again_cpu),
        ]
        for name, wall, cpu in rows:
            print(
                f"{name:<46} {wall:>6.1f} s {cpu:>6.1f} s {indexed / wall:>7.0f} "
                f"{wall / bare:>5.2f}x {cpu / bare_cpu:>5.2f}x"
            )
        print(f"({len(documents)} documents; ratios against the mean of the two bare runs)")
        bars.check(
            "rebuild after the import vs bare Whoosh",
            rebuild_first / bare <= REBUILD_BAR,
            f"{rebuild_first / bare:.2f}x wall, {rebuild_first_cpu / bare_cpu:.2f}x CPU "
            f"(bar <= {REBUILD_BAR}x, goal {REBUILD_GOAL}x)",
        )
        bars.check(
            "rebuild with an empty outbox vs bare Whoosh",
            rebuild_again / bare <= REBUILD_BAR,
            f"{rebuild_again / bare:.2f}x wall, {rebuild_again_cpu / bare_cpu:.2f}x CPU "
            f"(bar <= {REBUILD_BAR}x, goal {REBUILD_GOAL}x)",
        )
        bars.info(f"import: {posts / import_seconds:.0f} posts/s ({import_seconds:.0f} s)")

        heading("Query latency on a freshly rebuilt index")
        print(f"index: {index_shape(index_root)}")
        stats_fresh = time_queries(app, queries, index_root)

        heading("Spelling corrector: a worker's first speller() call")
        speller_fresh = time_speller(bench_config(tmp), 3)
        for label, seconds in (
            ("index as import + rebuild leave it (1 run)", speller_after_import),
            ("freshly rebuilt index (median of 3)", speller_fresh),
        ):
            print(f"{label:<44} {seconds * 1000:7.0f} ms")

        for label, stats in (
            ("index as import + rebuild leave it", stats_after_import),
            ("freshly rebuilt index", stats_fresh),
        ):
            bars.check(
                f"search service p95, {label}",
                stats["s95"] < SEARCH_P95_BAR_MS,
                f"{stats['s95']:.1f} ms (the page's bar is p95 < {SEARCH_P95_BAR_MS:.0f} ms; "
                f"median {stats['s50']:.1f} ms = {stats['s50'] / stats['b50']:.1f}x bare "
                f"Whoosh's {stats['b50']:.1f} ms; <= {stats['sql_max']} SQL queries)",
            )
        bars.info(
            f"spelling corrector, first call in a worker: {speller_after_import * 1000:.0f} ms "
            f"after the import, {speller_fresh * 1000:.0f} ms on a freshly rebuilt index"
        )
        with app.app_context():
            db.engine.dispose()
    return bars.report()


if __name__ == "__main__":
    sys.exit(main())
