"""The Whoosh search backend: schema, generations, locked writes through the outbox, queries.

Layout under the index directory: one folder per generation, CURRENT naming the live one
(switched atomically by rename), REBUILDING while a new generation is being built (its process
holds rebuild.lock meanwhile, so a marker without a holder is a rebuild that died), and
drain.lock, the lock every writer of the live generation takes with a timeout. Each generation
keeps its spelling tables beside it (spelling.sqlite). Changes reach it through the outbox
(outbox.py): recorded in the post's transaction, applied by a drain after the commit.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from whoosh import highlight, index
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.columns import ColumnReader
from whoosh.fields import BOOLEAN, DATETIME, ID, NUMERIC, STORED, TEXT, Schema
from whoosh.lang import porter2
from whoosh.query import And, DateRange, Every, Or, Phrase, Query, Term
from whoosh.searching import Searcher

from forum.database import utcnow
from forum.search.backend import (
    ABANDONED,
    RUNNING,
    Changes,
    CheckReport,
    DrainResult,
    Hit,
    HitPage,
    IndexBusy,
    IndexMissing,
    IndexUnreadable,
    Progress,
    plain_snippet,
)
from forum.search.documents import PostDocument, differences, iter_documents, load_documents
from forum.search.outbox import Outbox
from forum.search.query import ParsedQuery, QueryTerm
from forum.search.spelling import SpellingCorrector
from forum.search.spelling_store import SpellingStore

log = logging.getLogger(__name__)
DRAIN_BATCH = 1000
# A change waiting longer than this is stuck, not in flight (a drain takes milliseconds).
INDEX_BEHIND_AFTER = timedelta(seconds=10)
# Whoosh's default Porter stemmer turns "running" into "runn"; porter2 is right.
ANALYZER = StemmingAnalyzer(stemfn=porter2.stem)
NAME_ANALYZER = StandardAnalyzer(stoplist=None)
SPELLING_FIELDS = ("spell_subject", "spell_body")


def spelling_words(doc: PostDocument) -> set[str]:
    """The unstemmed words a document adds to the vocabulary (as the spelling fields hold), for
    every backend's corrections."""
    return {token.text for token in ANALYZER(f"{doc.subject} {doc.body}", no_morph=True)}


def make_schema() -> Schema:
    return Schema(
        post_id=ID(unique=True, stored=True),
        thread_id=NUMERIC(int, stored=True, sortable=True),
        board=ID(stored=True),
        board_name=STORED(),
        author=ID(stored=True),
        author_name=TEXT(analyzer=NAME_ANALYZER, stored=True, field_boost=0.5),
        # chars=True stores where each word is, so snippets need not re-analyse whole bodies
        subject=TEXT(analyzer=ANALYZER, stored=True, field_boost=2.0, spelling=True, chars=True),
        body=TEXT(analyzer=ANALYZER, stored=True, spelling=True, chars=True),
        posted_at=DATETIME(stored=True, sortable=True),
        position=NUMERIC(int, stored=True),
        solved=BOOLEAN(stored=True),
        digest=STORED(),
    )


@dataclass(frozen=True)
class IndexQuery:
    """What posts must match, and what no post of a shown thread may contain."""

    match: Query
    exclude: Query | None = None


class EscapingFormatter(highlight.Formatter):
    """Highlights matched words with <mark>, escaping everything: snippets are never raw HTML."""

    between = " … "

    def _text(self, text: str) -> str:
        return str(escape(text))

    def format_token(self, text: str, token, replace: bool = False) -> str:
        return f"<mark>{escape(highlight.get_text(text, token, replace))}</mark>"


def _to_fields(doc: PostDocument) -> dict:
    return {
        "post_id": str(doc.post_id),
        "thread_id": doc.thread_id,
        "board": doc.board,
        "board_name": doc.board_name,
        "author": doc.author,
        "author_name": doc.author_name,
        "subject": doc.subject,
        "body": doc.body,
        "posted_at": doc.posted_at.astimezone(UTC).replace(tzinfo=None),
        "position": doc.position,
        "solved": doc.solved,
        "digest": doc.digest,
    }


class PageCache:
    """Recent pages of results, valid for one version of the index and dropped when it changes.

    Any commit by any process makes a new version, so a cached page is exactly as fresh as a new
    search would be; what it saves is scoring every match again for a query asked twice.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._version: tuple[str, int] | None = None
        self._pages: OrderedDict[tuple, HitPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: tuple[str, int], key: tuple) -> HitPage | None:
        with self._lock:
            if version != self._version:
                return None
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, version: tuple[str, int], key: tuple, page: HitPage) -> None:
        if self.size <= 0:
            return
        with self._lock:
            if version != self._version:
                self._version = version
                self._pages.clear()
            self._pages[key] = page
            if len(self._pages) > self.size:
                self._pages.popitem(last=False)


@dataclass
class _HeldSearcher:
    """A searcher with the per-document columns a search reads, opened when the searcher is.

    Whoosh opens column files on first use and asks the disk whether each exists; once another
    process's commit has merged a segment away, a late first use finds no file and reads another
    segment's values (or fails). Opened up front, the handles outlive the deletion.
    """

    generation: str
    searcher: Searcher
    thread_of: ColumnReader | None  # document number -> thread id; None on an empty index
    posted_of: ColumnReader | None  # document number -> sortable posting time

    @classmethod
    def open(cls, generation: str, ix: index.Index) -> _HeldSearcher:
        searcher = ix.searcher()
        try:
            if searcher.doc_count_all() == 0:
                return cls(generation, searcher, None, None)
            reader = searcher.reader()
            for leaf, _offset in reader.leaf_readers():
                if not (leaf.has_column("thread_id") and leaf.has_column("posted_at")):
                    raise OSError(errno.ENOENT, "a segment was merged away while opening")
                leaf.stored_fields(0)
                for name in leaf.schema.scorable_names():  # field lengths, read when scoring
                    leaf.doc_field_length(0, name)
            return cls(
                generation,
                searcher,
                reader.column_reader("thread_id", translate=False),
                reader.column_reader("posted_at", translate=False),
            )
        except BaseException:
            searcher.close()
            raise

    def is_current(self, generation: str) -> bool:
        return self.generation == generation and self.searcher.up_to_date()

    @property
    def version(self) -> tuple[str, int]:
        return self.generation, self.searcher.reader().generation()


def _try_flock(handle) -> bool:
    """Take an exclusive flock without waiting; False when another open file holds it."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno not in (errno.EAGAIN, errno.EACCES):
            raise
        return False
    return True


def _abandon(writer) -> None:
    """Cancel a writer whose work or commit failed; a full disk can fail the cancel too."""
    try:
        writer.cancel()
    except Exception as exc:
        log.warning("cancelling a failed index write failed too: %s", str(exc))


def _close_searchers(idle: list[_HeldSearcher], lock: threading.Lock) -> None:
    with lock:
        closing = idle[:]
        idle.clear()
    for held in closing:
        held.searcher.close()


class WhooshIndex:
    """The on-disk index, a SearchBackend. Searchers are pooled, checked for freshness per use;
    writers lock."""

    def __init__(
        self,
        root: str | os.PathLike,
        session_factory: Callable[[], Session],
        lock_timeout: float = 0.5,
        cached_pages: int = 256,
    ) -> None:
        self.root = Path(root)
        self.session_factory = session_factory
        self.outbox = Outbox(session_factory)
        self.lock_timeout = lock_timeout
        self._speller: tuple[str, SpellingCorrector] | None = None
        self._opened: tuple[str, index.Index] | None = None
        self._idle: list[_HeldSearcher] = []  # searchers no thread is using
        self._idle_lock = threading.Lock()
        self.pages = PageCache(cached_pages)
        self._rebuild_lock = None  # the open rebuild.lock while this process rebuilds
        # an app that is dropped (tests make many) closes its index files rather than leak them
        weakref.finalize(self, _close_searchers, self._idle, self._idle_lock)

    # generations ---------------------------------------------------------------------------

    def generation(self) -> str | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return name if name and (self.root / name).is_dir() else None

    def available(self) -> bool:
        return self.generation() is not None

    def rebuild_state(self) -> str:
        """RUNNING, ABANDONED (the marker's process died: kill -9, OOM, a reboot), or ""."""
        if not (self.root / "REBUILDING").exists():
            return ""
        with self._rebuild_lock_held() as held:
            return ABANDONED if held else RUNNING

    def rebuilding(self) -> bool:
        """Whether a live process is building a new generation (drains keep rows for it)."""
        return self.rebuild_state() == RUNNING

    def clear_abandoned_rebuild(self) -> bool:
        """Remove a dead rebuild's marker and half-built generation; True if there was one."""
        if not (self.root / "REBUILDING").exists():
            return False
        with self._rebuild_lock_held() as held:
            if not held or not (self.root / "REBUILDING").exists():
                return False  # a rebuild is running, or another process just cleared it
            live = self.generation()
            for path in self.root.glob("gen-*"):
                if path.name != live:
                    shutil.rmtree(path, ignore_errors=True)
            (self.root / "REBUILDING").unlink(missing_ok=True)
        return True

    @contextmanager
    def _rebuild_lock_held(self) -> Iterator[bool]:
        """Try rebuild.lock once without waiting: True while held here, False if a rebuild has it."""
        if self._rebuild_lock is not None:  # this process is the rebuild
            yield False
            return
        with open(self.root / "rebuild.lock", "a") as handle:
            if not _try_flock(handle):
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _open(self, name: str | None = None) -> index.Index:
        name = name or self.generation()
        if name is None:
            raise IndexMissing(str(self.root))
        if self._opened is None or self._opened[0] != name:
            self._opened = (name, index.open_dir(str(self.root / name)))
        return self._opened[1]

    def version(self) -> tuple[str, int]:
        """Changes whenever any process commits to the index (cached pages are per version)."""
        with self._searcher() as held:
            return held.version

    @contextmanager
    def _searcher(self) -> Iterator[_HeldSearcher]:
        """A searcher on the latest committed state of the live generation, from the pool.

        Opening one reads every segment's files (0.2-0.5 ms, more as segments add up), so a
        pooled one is kept while no process has committed since it was opened: exactly as fresh
        as a new one. (Not Whoosh's `refresh()`: its reader reuse keeps merged-away segments.)
        """
        name = self.generation()
        if name is None:
            raise IndexMissing(str(self.root))
        with self._idle_lock:
            held = self._idle.pop() if self._idle else None
        if held is None or not held.is_current(name):
            if held is not None:  # the others are as old: keep no deleted files open for them
                _close_searchers(self._idle, self._idle_lock)
                held.searcher.close()
            held = self._open_searcher(name)
        try:
            yield held
        finally:
            with self._idle_lock:
                self._idle.append(held)

    def _open_searcher(self, name: str) -> _HeldSearcher:
        """Open a searcher, retrying while a concurrent commit removes the segments it read."""
        attempts = 3
        while True:
            try:
                return _HeldSearcher.open(name, self._open(name))
            except OSError:
                attempts -= 1
                if not attempts:
                    raise
                time.sleep(0.01)

    # following the database: the outbox ----------------------------------------------------

    def index_in_transaction(self, session: Session, changes: Changes) -> None:
        """Files cannot join the database transaction: record the changes for the drain."""
        self.outbox.record(session, changes)

    def drain(self, lock_timeout: float | None = None, max_rows: int | None = None) -> DrainResult:
        """Apply pending outbox rows to the live generation (with max_rows, only that many of the
        newest: rows name no action, so any order is right); never raises for a busy or broken
        index."""
        result = DrainResult()
        if not self.available():
            result.skipped_because = (
                "the index has not been built (run `flask --app forum search rebuild`)"
            )
            result.pending = self.pending()
            return result
        try:
            with self.write_lock(lock_timeout):
                if self.clear_abandoned_rebuild():
                    log.warning("cleared a search rebuild that died part-way")
                # During a rebuild, rows are applied to the live index but kept for the new one.
                keep_rows = self.rebuilding()
                if max_rows is not None:
                    result.applied, _ = self._drain_batch(None, keep_rows, max_rows)
                else:
                    last_id = 0
                    while True:
                        applied, last_id = self._drain_batch(last_id, keep_rows, DRAIN_BATCH)
                        result.applied += applied
                        if applied < DRAIN_BATCH:
                            break
        except IndexBusy as exc:
            result.skipped_because = str(exc)
        except (OSError, IndexMissing, IndexUnreadable) as exc:
            # str(): a log record keeping the exception would keep the damaged files open too
            log.warning("search index write failed; the outbox keeps the changes: %s", str(exc))
            result.skipped_because = f"the index could not be written: {exc}"
        result.pending = self.pending()
        return result

    def _drain_batch(
        self, after_id: int | None, keep_rows: bool, size: int
    ) -> tuple[int, int | None]:
        """Apply up to size rows after after_id, or the newest size rows when after_id is None."""
        with self.session_factory() as session:
            rows = self.outbox.rows(session, after_id, size)
            if not rows:
                return 0, after_id
            documents = load_documents(session, {row.post_id for row in rows})
        self.apply(documents)
        self._learn_words([doc for doc in documents.values() if doc is not None])
        if not keep_rows:
            self.outbox.delete([row.id for row in rows])
        return len(rows), rows[-1].id

    def _learn_words(self, documents: list[PostDocument]) -> None:
        """Grow the live generation's spelling tables with the words just indexed."""
        store = SpellingStore(self.spelling_path())
        if not store.exists():
            store.write(self.vocabulary())
        else:
            store.add(spelling_words(doc) for doc in documents)

    def pending(self) -> int:
        return self.outbox.pending()

    def queue(self, post_ids: list[int]) -> None:
        """Ask the next drain to index these posts again."""
        self.outbox.queue(post_ids)

    def behind(self) -> bool:
        """Whether changes have waited past INDEX_BEHIND_AFTER (a held lock, a full disk). During
        a rebuild the kept rows are in the live index already."""
        oldest = self.outbox.oldest()
        return (
            oldest is not None and oldest < utcnow() - INDEX_BEHIND_AFTER and not self.rebuilding()
        )

    def rebuild(self, progress: Progress = lambda n: None) -> int:
        """Build a new generation from the database beside the live one, switch to it, drain.

        Search keeps answering from the old generation meanwhile; changes made during the build
        stay in the outbox (the REBUILDING marker tells drains to keep them) and reach the new one.
        Rows already committed when the build starts are covered by its scan, so they are dropped
        rather than applied again (after an import that would index every post twice).
        """
        self.mark_rebuilding(True)
        try:
            with self.write_lock(timeout=30):
                pass  # a drain that began before the marker has finished
            covered = self.outbox.ids()
            counted = 0

            def documents():
                nonlocal counted
                with self.session_factory() as session:
                    for doc in iter_documents(session):
                        counted += 1
                        if counted % 100 == 0:
                            progress(100)
                        yield doc
                progress(counted % 100)

            name = self.build_generation(documents())
            SpellingStore(self.spelling_path(name)).write(self.vocabulary(name))
            with self.write_lock(timeout=30):
                self.switch_to(name)
                self.mark_rebuilding(False)
                self.outbox.delete(covered)
        finally:
            self.mark_rebuilding(False)
        self.drain(lock_timeout=30)
        return counted

    def check(
        self, repair: bool = False, deep: bool = False, progress: Progress = lambda n: None
    ) -> CheckReport:
        """Missing, stale and stray documents, a rebuild running or abandoned, and (deep) damaged
        segments. Repair clears an abandoned rebuild, applies what differs, and rebuilds a
        damaged index."""
        indexed = self.digests()
        report = CheckReport(rebuild=self.rebuild_state())
        if deep:
            report.damage = self.verify()
        with self.session_factory() as session:
            report.missing, report.stale, report.stray = differences(session, indexed, progress)
        if repair and report.rebuild == ABANDONED:
            self.clear_abandoned_rebuild()
        if repair and report.damage:
            self.rebuild()
        elif repair and (report.missing or report.stale or report.stray):
            self.queue(report.missing + report.stale + report.stray)
            self.drain(lock_timeout=30)
        return report

    # locking -------------------------------------------------------------------------------

    @contextmanager
    def write_lock(self, timeout: float | None = None) -> Iterator[None]:
        """Hold drain.lock (flock, so a crashed holder frees it); IndexBusy after the timeout."""
        self.root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + (self.lock_timeout if timeout is None else timeout)
        with open(self.root / "drain.lock", "a") as handle:
            while not _try_flock(handle):
                if time.monotonic() >= deadline:
                    raise IndexBusy("the search index is being written by another process")
                time.sleep(0.02)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # writing (callers hold write_lock) -----------------------------------------------------
    # Writers skip Whoosh's own WRITELOCK (_lk=False): drain.lock already orders every writer
    # of the live generation, and Whoosh takes its lock inside the writer's constructor, so a
    # constructor that fails (a full disk, a read-only file) left it held for the life of the
    # process, refusing every other process's writes. The kernel frees drain.lock on any exit.

    def apply(self, documents: Mapping[int, PostDocument | None]) -> None:
        """Index each document, or remove the post when its document is None, in one commit."""
        with self._unreadable_if_damaged():
            writer = self._open().writer(compound=False, _lk=False)
            try:
                for post_id, doc in documents.items():
                    if doc is None:
                        writer.delete_by_term("post_id", str(post_id))
                    else:
                        writer.update_document(**_to_fields(doc))
                writer.commit()
            except BaseException:
                _abandon(writer)
                raise

    def build_generation(self, documents: Iterable[PostDocument]) -> str:
        """Write a whole new generation beside the live one; returns its name (not yet live)."""
        name = f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        path = self.root / name
        path.mkdir(parents=True)
        ix = index.create_in(str(path), make_schema())
        writer = ix.writer(limitmb=256, compound=False, _lk=False)
        try:
            for doc in documents:
                writer.add_document(**_to_fields(doc))
            writer.commit()
        except BaseException:
            _abandon(writer)
            shutil.rmtree(path, ignore_errors=True)
            raise
        return name

    def mark_rebuilding(self, on: bool) -> None:
        """Set or clear the REBUILDING marker, holding rebuild.lock while it is set (flock: the
        kernel frees it however the process ends, which is how a dead rebuild is told apart)."""
        marker = self.root / "REBUILDING"
        if on:
            self.root.mkdir(parents=True, exist_ok=True)
            if self._rebuild_lock is None:
                handle = open(self.root / "rebuild.lock", "a")  # noqa: SIM115 (held until off)
                if not _try_flock(handle):
                    handle.close()
                    raise IndexBusy("another process is rebuilding the search index")
                self._rebuild_lock = handle
            marker.write_text(str(os.getpid()))
        else:
            marker.unlink(missing_ok=True)
            if self._rebuild_lock is not None:
                self._rebuild_lock.close()  # closing frees the flock
                self._rebuild_lock = None

    def switch_to(self, name: str) -> None:
        """Make a generation live with an atomic rename, then delete the older ones.

        Searchers still open on an old generation keep their open files (POSIX), so deleting is safe.
        """
        tmp = self.root / f"CURRENT.{os.getpid()}"
        tmp.write_text(name)
        os.replace(tmp, self.root / "CURRENT")
        for path in self.root.glob("gen-*"):
            if path.name != name:
                shutil.rmtree(path, ignore_errors=True)

    # reading -------------------------------------------------------------------------------

    def digests(self) -> dict[int, str]:
        """post id -> digest of every document, for `search check`."""
        with self._unreadable_if_damaged(), self._open().searcher() as searcher:
            return {
                int(fields["post_id"]): fields["digest"] for fields in searcher.all_stored_fields()
            }

    def verify(self) -> list[str]:
        """Read every segment whole (terms, postings, stored fields): the damage found, if any.

        `digests` reads stored fields only, so a damaged postings file passes it and fails only
        the searches that reach it; this is `search check --deep`.
        """
        damage = []
        with self._open().searcher() as searcher:
            for reader, _ in searcher.reader().leaf_readers():
                try:
                    for fieldname, text in reader.all_terms():
                        for _ in reader.postings(fieldname, text).all_ids():
                            pass
                    for _ in reader.all_stored_fields():
                        pass
                except Exception as exc:  # Whoosh has no one error for a damaged file
                    damage.append(
                        f"segment {reader.segment().segment_id()}: {type(exc).__name__}: {exc}"
                    )
        return damage

    def spelling_path(self, generation: str | None = None) -> Path:
        """Where the spelling tables of a generation (the live one by default) are kept."""
        name = generation or self.generation()
        if name is None:
            raise IndexMissing(str(self.root))
        return self.root / name / "spelling.sqlite"

    def vocabulary(self, generation: str | None = None) -> dict[str, int]:
        """Unstemmed words with their document frequencies, from the spelling fields."""
        counts: dict[str, int] = {}
        ix = index.open_dir(str(self.root / generation)) if generation else self._open()
        with ix.searcher() as searcher:
            reader = searcher.reader()
            for fieldname in SPELLING_FIELDS:
                if fieldname not in reader.schema:
                    continue
                for term, info in reader.iter_field(fieldname):
                    word = term.decode() if isinstance(term, bytes) else term
                    counts[word] = counts.get(word, 0) + info.doc_frequency()
        return counts

    def speller(self) -> SpellingCorrector:
        """The corrector over the live generation's vocabulary, read in place from its tables."""
        generation = self.generation()
        if generation is None:
            raise IndexMissing(str(self.root))
        if self._speller is None or self._speller[0] != generation:
            store = SpellingStore(self.spelling_path(generation))
            if not store.exists():  # the next drain builds it; until then, no corrections
                return SpellingCorrector.from_counts({})
            self._speller = (generation, store.corrector())
        return self._speller[1]

    def matches_stem(self, word: str) -> bool:
        """Whether the word, stemmed as the index stems it, occurs anywhere ("interviewing")."""
        terms = self.analyse(word)
        with self._unreadable_if_damaged(), self._searcher() as held:
            searcher = held.searcher
            return bool(terms) and all(
                searcher.doc_frequency("body", t) or searcher.doc_frequency("subject", t)
                for t in terms
            )

    def analyse(self, text: str) -> list[str]:
        """The index terms a word or phrase becomes (lower-cased, stop words dropped, stemmed)."""
        return [token.text for token in ANALYZER(text)]

    def to_query(self, parsed: ParsedQuery, any_word: bool = False) -> IndexQuery | None:
        """Every clause must match (any clause with a word, for the fallback; phrases always
        must), and the filters; excluded terms become the threads to leave out."""
        word_clauses: list[Query] = []
        required: list[Query] = []
        for clause in parsed.clauses:
            alternatives = [q for q in map(self._term_query, clause) if q is not None]
            if alternatives:
                either = alternatives[0] if len(alternatives) == 1 else Or(alternatives)
                if all(term.phrase for term in clause):
                    required.append(either)
                else:
                    word_clauses.append(either)
        if word_clauses:
            required.append(Or(word_clauses) if any_word else And(word_clauses))
        has_terms = bool(required)
        if not has_terms and not parsed.has_filters:
            return None
        if parsed.author:
            required.append(Term("author", parsed.author))
        if parsed.board:
            required.append(Term("board", parsed.board))
        if parsed.solved:
            required.append(Term("solved", True))
        if parsed.after or parsed.before:
            start = datetime.combine(parsed.after, clock.min) if parsed.after else None
            end = datetime.combine(parsed.before, clock.max) if parsed.before else None
            required.append(DateRange("posted_at", start, end))
        if not has_terms:
            required.append(Every())
        excluded = [self._term_query(term, author=False) for term in parsed.excluded]
        excluded = [q for q in excluded if q is not None]
        return IndexQuery(
            match=And(required) if len(required) > 1 else required[0],
            exclude=Or(excluded) if excluded else None,
        )

    def _term_query(self, term: QueryTerm, author: bool = True) -> Query | None:
        """A phrase in the subject or body; a word's stems in either, or the word in the
        author's name (not when it is excluded: leaving out "john" means the word, not John)."""
        stems = self.analyse(term.text)
        if not stems:
            return None  # stop words or single letters
        if term.phrase and len(stems) > 1:
            return Or([Phrase("subject", stems), Phrase("body", stems)])
        per_stem = []
        for stem in stems:
            fields = [Term("subject", stem), Term("body", stem)]
            if author and not term.phrase:
                fields.append(Term("author_name", term.text))
            per_stem.append(Or(fields))
        return per_stem[0] if len(per_stem) == 1 else And(per_stem)

    def search(
        self,
        query: ParsedQuery,
        page: int,
        per_page: int,
        by_date: bool = False,
        any_word: bool = False,
    ) -> HitPage | None:
        """The best post of each matching thread, one page of threads, with highlighted snippets;
        None when the query is only stop words."""
        translated = self.to_query(query, any_word)
        if translated is None:
            return None
        with self._unreadable_if_damaged(), self._searcher() as held:
            key = (repr(translated), page, per_page, by_date)
            cached = self.pages.get(held.version, key)
            if cached is not None:
                return cached
            found = self._search(held, translated, page, per_page, by_date)
            self.pages.put(held.version, key, found)
            return found

    @contextmanager
    def _unreadable_if_damaged(self) -> Iterator[None]:
        """Whatever a damaged index raises (Whoosh has no one error for it) becomes
        IndexUnreadable, so the forum carries on without it: searches answer from the database,
        changes wait in the outbox."""
        try:
            yield
        except (IndexMissing, IndexUnreadable):
            raise
        except Exception as exc:
            raise IndexUnreadable(f"{type(exc).__name__}: {exc}") from exc

    def _search(
        self, held: _HeldSearcher, query: IndexQuery, page: int, per_page: int, by_date: bool
    ) -> HitPage:
        """Rank every matching post, then keep each thread's first (its best, or its newest).

        Not Whoosh's collapse="thread_id": it removes a displaced post by scanning the whole list,
        so a common word in long threads took seconds; and sorted newest first it kept each
        thread's oldest matching post, ordering threads by that.
        """
        # sorted by date, scores would go unused: Whoosh then only lists the matches
        results = held.searcher.search(query.match, limit=None, scored=not by_date, terms=True)
        if not results.top_n:
            return HitPage(hits=[], total_threads=0)
        # A thread with an excluded term in any post is left out whole: the shown post of a
        # thread never has one, so no excluded word is ever highlighted.
        left_out: set[int] = set()
        if query.exclude is not None:
            left_out = {held.thread_of[n] for n in held.searcher.docs_for_query(query.exclude)}
        ranked = results.top_n  # (score, document number), best first
        if by_date:
            # newest first; the same instant, the later-indexed post first
            ranked = sorted(
                ranked, key=lambda item: (held.posted_of[item[1]], item[1]), reverse=True
            )
        seen: set[int] = set()
        best = []
        for item in ranked:
            thread_id = held.thread_of[item[1]]
            if thread_id not in seen and thread_id not in left_out:
                seen.add(thread_id)
                best.append(item)
        start = (page - 1) * per_page
        # Highlighting loads word positions for every document left in top_n: the page's only.
        results.top_n = best[start : start + per_page]
        results.formatter = EscapingFormatter()
        # Pinpoint fragments use the stored word positions (highlighting otherwise re-analysed
        # every hit's body: 60% of a search); one fragment, so none is joined mid-word.
        results.fragmenter = highlight.PinpointFragmenter(maxchars=260, surround=90, autotrim=True)
        return HitPage(hits=[self._hit(hit) for hit in results], total_threads=len(seen))

    def _hit(self, hit) -> Hit:
        fields = hit.fields()
        snippet = hit.highlights("body", top=1) or hit.highlights("subject", top=1)
        if not snippet:
            body = fields.get("body", "")
            snippet = plain_snippet(body)
        return Hit(
            post_id=int(fields["post_id"]),
            thread_id=fields["thread_id"],
            position=fields["position"],
            subject=fields["subject"],
            board=fields["board"],
            board_name=fields["board_name"],
            author=fields["author"],
            author_name=fields["author_name"],
            posted_at=fields["posted_at"].replace(tzinfo=UTC),
            solved=fields["solved"],
            score=float(hit.score or 0.0),
            snippet=Markup(snippet),
        )
