"""The forum's search rules on top of a backend: the outbox drain, rebuilds, checks and the query flow.

Indexing follows the database: a change writes an outbox row in its own transaction; after the
commit the drain applies pending rows under the writer lock and deletes them. A held lock, a full
disk or a crash leaves the rows for the next writer or `flask search drain`: nothing is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forum.database import WRITE_OPTION, utcnow
from forum.models import IndexOutbox, SearchMiss, Thread
from forum.search.database import database_search
from forum.search.documents import count_searchable, iter_documents, load_documents
from forum.search.index import (
    ABANDONED,
    Hit,
    HitPage,
    IndexBusy,
    IndexMissing,
    IndexUnreadable,
    WhooshIndex,
)
from forum.search.query import ParsedQuery, parse_query
from forum.search.spelling import SpellingCorrector
from forum.search.spelling_store import SpellingStore

log = logging.getLogger(__name__)
DRAIN_BATCH = 1000
# A change waiting longer than this is stuck, not in flight (a drain takes milliseconds).
INDEX_BEHIND_AFTER = timedelta(seconds=10)
RARER_FACTOR = 20  # a known word this many times rarer than a close neighbour gets "Did you mean"
RARE_WORD = 3  # only words this rare are checked so: finding neighbours costs more than the search


@dataclass
class SearchOutcome:
    """Everything the search page and the API show for one query."""

    query: str
    parsed: ParsedQuery
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    pages: int = 1
    corrected_query: str | None = None  # results shown are for this ("Showing results for")
    suggestion: str | None = None  # "Did you mean"
    any_word: bool = False  # no thread had every word; ranked by any word instead
    index_missing: bool = False
    index_unreadable: bool = False  # damaged: answered like a missing index until rebuilt
    index_behind: bool = False  # changes older than INDEX_BEHIND_AFTER still wait in the outbox
    notes: list[str] = field(default_factory=list)
    threads: dict[int, Thread] = field(default_factory=dict)  # of the hits, for "N of M" and links


@dataclass
class DrainResult:
    applied: int = 0
    pending: int = 0
    skipped_because: str | None = None


@dataclass
class CheckReport:
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    stray: list[int] = field(default_factory=list)
    rebuild: str = ""  # RUNNING or ABANDONED when a REBUILDING marker is there
    damage: list[str] = field(default_factory=list)  # segments that cannot be read (deep check)

    @property
    def clean(self) -> bool:
        return not (
            self.missing or self.stale or self.stray or self.damage or self.rebuild == ABANDONED
        )


class SearchService:
    """The small interface the rest of the forum uses: drain, search, suggest, rebuild, check."""

    def __init__(self, backend: WhooshIndex, session_factory: Callable[[], Session]) -> None:
        self.backend = backend
        self.session_factory = session_factory
        self._speller: tuple[str, SpellingCorrector] | None = None
        # Called when a bounded drain left rows behind (the task queue drains them off-request).
        self.on_backlog: Callable[[], None] | None = None

    # indexing ------------------------------------------------------------------------------

    def drain(self, lock_timeout: float | None = None, max_rows: int | None = None) -> DrainResult:
        """Apply pending outbox rows to the live index (with max_rows, only that many of the
        newest: rows name no action, so any order is right); never raises for a busy or broken
        index."""
        result = DrainResult()
        if not self.backend.exists():
            result.skipped_because = (
                "the index has not been built (run `flask --app forum search rebuild`)"
            )
            result.pending = self.pending()
            return result
        try:
            with self.backend.write_lock(lock_timeout):
                if self.backend.clear_abandoned_rebuild():
                    log.warning("cleared a search rebuild that died part-way")
                # During a rebuild, rows are applied to the live index but kept for the new one.
                keep_rows = self.backend.rebuilding()
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

    def catch_up(self, max_rows: int, lock_timeout: float | None = None) -> DrainResult:
        """Apply a bounded batch of the newest rows now and hand the rest to the task queue, so
        neither a request nor a starting worker does work proportional to the backlog."""
        result = self.drain(lock_timeout, max_rows=max_rows)
        if result.pending and self.on_backlog is not None:
            self.on_backlog()
        return result

    def drain_backlog(self, batch: int = 200, lock_timeout: float = 5) -> int:
        """Drain all that is pending in bounded batches, letting go of the writer lock between
        them so requests' own drains get it; stops when a batch makes no progress (a rebuild
        keeps its rows, a broken index applies none). Returns the rows applied."""
        applied, pending = 0, self.pending()
        while pending:
            result = self.drain(lock_timeout, max_rows=batch)
            applied += result.applied
            if result.pending >= pending:
                break
            pending = result.pending
        return applied

    def _drain_batch(
        self, after_id: int | None, keep_rows: bool, size: int
    ) -> tuple[int, int | None]:
        """Apply up to size rows after after_id, or the newest size rows when after_id is None."""
        rows_query = select(IndexOutbox.id, IndexOutbox.post_id).limit(size)
        if after_id is None:
            rows_query = rows_query.order_by(IndexOutbox.id.desc())
        else:
            rows_query = rows_query.where(IndexOutbox.id > after_id).order_by(IndexOutbox.id)
        with self.session_factory() as session:
            rows = session.execute(rows_query).all()
            if not rows:
                return 0, after_id
            documents = load_documents(session, {row.post_id for row in rows})
        self.backend.apply(documents)
        self._learn_words([doc for doc in documents.values() if doc is not None])
        if not keep_rows:
            self._delete_rows([row.id for row in rows])
        return len(rows), rows[-1].id

    def _delete_rows(self, ids: list[int]) -> None:
        """Delete outbox rows by id (never by range: a lower id may still be uncommitted)."""
        with self.session_factory() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            for start in range(0, len(ids), DRAIN_BATCH):
                chunk = ids[start : start + DRAIN_BATCH]
                session.execute(delete(IndexOutbox).where(IndexOutbox.id.in_(chunk)))
            session.commit()

    def _learn_words(self, documents: list) -> None:
        """Grow the live generation's spelling tables with the words just indexed."""
        store = SpellingStore(self.backend.spelling_path())
        if not store.exists():
            store.write(self.backend.vocabulary())
        else:
            store.add(self.backend.spelling_words(doc) for doc in documents)

    def pending(self) -> int:
        with self.session_factory() as session:
            return session.scalar(select(func.count()).select_from(IndexOutbox))

    def rebuild(self, progress: Callable[[int], None] = lambda n: None) -> int:
        """Build a new generation from the database beside the live one, switch to it, drain.

        Search keeps answering from the old generation meanwhile; changes made during the build
        stay in the outbox (the REBUILDING marker tells drains to keep them) and reach the new one.
        Rows already committed when the build starts are covered by its scan, so they are dropped
        rather than applied again (after an import that would index every post twice).
        """
        backend = self.backend
        backend.mark_rebuilding(True)
        try:
            with backend.write_lock(timeout=30):
                pass  # a drain that began before the marker has finished
            with self.session_factory() as session:
                covered = list(session.scalars(select(IndexOutbox.id)))
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

            name = backend.build_generation(documents())
            SpellingStore(backend.spelling_path(name)).write(backend.vocabulary(name))
            with backend.write_lock(timeout=30):
                backend.switch_to(name)
                backend.mark_rebuilding(False)
                self._delete_rows(covered)
        finally:
            backend.mark_rebuilding(False)
        self.drain(lock_timeout=30)
        return counted

    def check(
        self,
        repair: bool = False,
        deep: bool = False,
        progress: Callable[[int], None] = lambda n: None,
    ) -> CheckReport:
        """Compare the index with the database: missing, stale and stray documents, a rebuild
        running or abandoned, and (deep) damaged segments. Repair clears an abandoned rebuild,
        applies what differs, and rebuilds a damaged index."""
        indexed = self.backend.digests()
        report = CheckReport(rebuild=self.backend.rebuild_state())
        if deep:
            report.damage = self.backend.verify()
        with self.session_factory() as session:
            for doc in iter_documents(session):
                digest = indexed.pop(doc.post_id, None)
                if digest is None:
                    report.missing.append(doc.post_id)
                elif digest != doc.digest:
                    report.stale.append(doc.post_id)
                progress(1)
        report.stray = sorted(indexed)
        if repair and report.rebuild == ABANDONED:
            self.backend.clear_abandoned_rebuild()
        if repair and report.damage:
            self.rebuild()
        elif repair and (report.missing or report.stale or report.stray):
            self.queue(report.missing + report.stale + report.stray)
            self.drain(lock_timeout=30)
        return report

    def queue(self, post_ids: list[int]) -> None:
        with self.session_factory() as session:
            session.connection(execution_options={WRITE_OPTION: True})
            session.execute(IndexOutbox.__table__.insert(), [{"post_id": i} for i in post_ids])
            session.commit()

    def record_miss(self, text: str) -> None:
        """Count a search that found nothing, so moderators see what members could not find."""
        query = " ".join(text.lower().split())[:255]
        if not query:
            return
        with self.session_factory() as session:
            connection = session.connection(execution_options={WRITE_OPTION: True})
            dialect_insert = (
                sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
            )
            now = utcnow()
            statement = dialect_insert(SearchMiss).values(
                query=query, count=1, last_searched_at=now
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=[SearchMiss.query],
                    set_={"count": SearchMiss.count + 1, "last_searched_at": now},
                )
            )
            session.commit()

    def misses(self, limit: int = 100) -> list[SearchMiss]:
        with self.session_factory() as session:
            return list(
                session.scalars(
                    select(SearchMiss)
                    .order_by(SearchMiss.count.desc(), SearchMiss.last_searched_at.desc())
                    .limit(limit)
                )
            )

    def count_searchable(self) -> int:
        with self.session_factory() as session:
            return count_searchable(session)

    # spelling ------------------------------------------------------------------------------

    def speller(self) -> SpellingCorrector:
        """The corrector over the live generation's vocabulary, read in place from its tables."""
        generation = self.backend.generation()
        if generation is None:
            raise IndexMissing(str(self.backend.root))
        if self._speller is None or self._speller[0] != generation:
            store = SpellingStore(self.backend.spelling_path(generation))
            if not store.exists():  # the next drain builds it; until then, no corrections
                return SpellingCorrector.from_counts({})
            self._speller = (generation, store.corrector())
        return self._speller[1]

    def suggest(self, word: str) -> str:
        """The best spelling of a word from the index's vocabulary (the word itself if known)."""
        try:
            return self.speller().correct(word.lower())
        except IndexMissing:
            return word

    def _corrections(
        self, parsed: ParsedQuery, speller: SpellingCorrector, rare_too: bool
    ) -> tuple[str, ...]:
        corrected = []
        for word in parsed.words:
            better = word
            if not speller.is_known(word):
                if not self.backend.matches_stem(word):
                    better = speller.correct(word)
            elif rare_too and speller.frequency(word) <= RARE_WORD:
                for candidate in speller.suggest(word, limit=3):
                    if candidate != word and speller.frequency(candidate) > RARER_FACTOR * max(
                        speller.frequency(word), 1
                    ):
                        better = candidate
                        break
            corrected.append(better)
        return tuple(corrected)

    # searching -----------------------------------------------------------------------------

    def search(
        self,
        text: str,
        page: int = 1,
        per_page: int = 10,
        by_date: bool = False,
        literal: bool = False,
    ) -> SearchOutcome:
        """The query flow: all words; else the corrected words; else any word. Never raises."""
        parsed = parse_query(text)
        outcome = SearchOutcome(query=text, parsed=parsed, page=page, notes=list(parsed.notes))
        if parsed.is_empty:
            if parsed.excluded:
                left_out = "-" + parsed.excluded[0].written()
                outcome.notes.append(
                    f"Add a word to search for: “{left_out}” only leaves threads out of what "
                    "the other words find."
                )
            elif text.strip():
                outcome.notes.append(
                    "Type a word to search for (symbols on their own are ignored)."
                )
            return outcome
        if not self.backend.exists():
            outcome.index_missing = True
            return self._database_search(outcome, per_page)
        try:
            found = self._search_index(outcome, per_page, by_date, literal)
            found.index_behind = self._index_behind()
            return found
        except (IndexMissing, IndexUnreadable) as exc:  # damaged, or switched away mid-search
            # str(): a log record keeping the exception would keep the damaged files open too
            log.error("search answered from the database: the index cannot be read: %s", str(exc))
            fallback = SearchOutcome(query=text, parsed=parsed, page=page, notes=list(parsed.notes))
            fallback.index_unreadable = True
            return self._database_search(fallback, per_page)

    def _search_index(
        self, outcome: SearchOutcome, per_page: int, by_date: bool, literal: bool
    ) -> SearchOutcome:
        parsed, page = outcome.parsed, outcome.page
        backend = self.backend
        query = backend.to_query(parsed)
        if query is None:
            outcome.notes.append("Those words are too common to search for on their own.")
            return outcome
        found = backend.search(query, page, per_page, by_date)
        speller = self.speller() if parsed.words else None
        corrected = None
        if found.total_threads == 0 and speller is not None and not literal:
            corrected = parsed.with_words(self._corrections(parsed, speller, rare_too=False))
            if corrected.words == parsed.words:
                corrected = None
            else:
                retry = backend.search(backend.to_query(corrected), page, per_page, by_date)
                if retry.total_threads:
                    outcome.corrected_query = corrected.text()
                    found = retry
        if found.total_threads == 0 and parsed.widens_with_any_word:
            # Any of the corrected words first: "interveiw tips" is better served by "interview"
            # than by the typo's empty match.
            for words in (corrected, parsed) if corrected else (parsed,):
                fallback = backend.search(
                    backend.to_query(words, any_word=True), page, per_page, by_date
                )
                if fallback.total_threads:
                    outcome.any_word = True
                    if words is corrected:
                        outcome.corrected_query = corrected.text()
                    found = fallback
                    break
        if speller is not None and outcome.corrected_query is None:
            better = parsed.with_words(self._corrections(parsed, speller, rare_too=True))
            if better.words != parsed.words:
                outcome.suggestion = better.text()
        return self._finish(outcome, found, per_page)

    def _index_behind(self) -> bool:
        """Whether changes have waited past INDEX_BEHIND_AFTER (a held lock, a full disk): the
        results may then miss new posts, and say so. During a rebuild the kept rows are in the
        live index already."""
        with self.session_factory() as session:
            oldest = session.scalar(select(func.min(IndexOutbox.created_at)))
        return (
            oldest is not None
            and oldest < utcnow() - INDEX_BEHIND_AFTER
            and not self.backend.rebuilding()
        )

    def _finish(self, outcome: SearchOutcome, found: HitPage, per_page: int) -> SearchOutcome:
        if found.hits:
            with self.session_factory() as session:
                threads = session.scalars(
                    select(Thread).where(Thread.id.in_({hit.thread_id for hit in found.hits}))
                ).all()
                session.expunge_all()
            outcome.threads = {thread.id: thread for thread in threads}
        # a hit whose thread has gone since it was indexed is dropped rather than linked
        outcome.hits = [hit for hit in found.hits if hit.thread_id in outcome.threads]
        outcome.total = found.total_threads
        outcome.pages = max(1, -(-found.total_threads // per_page))
        return outcome

    def _database_search(self, outcome: SearchOutcome, per_page: int) -> SearchOutcome:
        """Without an index: the database fallback's plain match."""
        with self.session_factory() as session:
            found = database_search(session, outcome.parsed, outcome.page, per_page)
        return self._finish(outcome, found, per_page)
