"""The forum's search rules on top of a backend: the query flow, spelling, the zero-result log.

The service never touches an engine's types: it hands a backend (backend.py) parsed queries and
gets back pages of hits. When the backend is unavailable (not built, or damaged) the same flow
runs over the database fallback instead, and the outcome says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from forum.database import WRITE_OPTION, utcnow
from forum.models import SearchMiss, Thread
from forum.search.backend import (
    BackendUnavailable,
    CheckReport,
    DrainResult,
    Hit,
    HitPage,
    Progress,
    SearchBackend,
    Searcher,
)
from forum.search.documents import count_searchable
from forum.search.query import ParsedQuery, parse_query
from forum.search.spelling import SpellingCorrector

log = logging.getLogger(__name__)
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
    index_behind: bool = False  # changes have waited long for the index (backend.behind())
    notes: list[str] = field(default_factory=list)
    threads: dict[int, Thread] = field(default_factory=dict)  # of the hits, for "N of M" and links


class SearchService:
    """The small interface the rest of the forum uses: search, drain, rebuild, check, misses."""

    def __init__(
        self,
        backend: SearchBackend,
        fallback: Searcher,
        session_factory: Callable[[], Session],
    ) -> None:
        self.backend = backend
        self.fallback = fallback  # answers while the backend is unavailable
        self.session_factory = session_factory
        # Called when a bounded drain left rows behind (the task queue drains them off-request).
        self.on_backlog: Callable[[], None] | None = None

    # following the database ----------------------------------------------------------------

    def drain(self, lock_timeout: float | None = None, max_rows: int | None = None) -> DrainResult:
        """Apply the changes the backend recorded but has not applied yet (see SearchBackend)."""
        return self.backend.drain(lock_timeout, max_rows)

    def catch_up(self, max_rows: int, lock_timeout: float | None = None) -> DrainResult:
        """Apply a bounded batch of the newest changes now and hand the rest to the task queue,
        so neither a request nor a starting worker does work proportional to the backlog."""
        result = self.drain(lock_timeout, max_rows=max_rows)
        if result.pending and self.on_backlog is not None:
            self.on_backlog()
        return result

    def drain_backlog(self, batch: int = 200, lock_timeout: float = 5) -> int:
        """Drain all that is pending in bounded batches, letting go of the writer lock between
        them so requests' own drains get it; stops when a batch makes no progress (a rebuild
        keeps its rows, a broken index applies none). Returns the changes applied."""
        applied, pending = 0, self.pending()
        while pending:
            result = self.drain(lock_timeout, max_rows=batch)
            applied += result.applied
            if result.pending >= pending:
                break
            pending = result.pending
        return applied

    def pending(self) -> int:
        return self.backend.pending()

    def rebuild(self, progress: Progress = lambda n: None) -> int:
        """Index every searchable post afresh; search keeps answering meanwhile."""
        return self.backend.rebuild(progress)

    def check(
        self, repair: bool = False, deep: bool = False, progress: Progress = lambda n: None
    ) -> CheckReport:
        """Compare the index with the database; repair what differs."""
        return self.backend.check(repair=repair, deep=deep, progress=progress)

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

    def speller(self) -> SpellingCorrector | None:
        """The corrector over the backend's vocabulary (a worker's first call opens it)."""
        return self.backend.speller()

    def _corrections(
        self,
        parsed: ParsedQuery,
        searcher: Searcher,
        speller: SpellingCorrector,
        rare_too: bool,
    ) -> tuple[str, ...]:
        corrected = []
        for word in parsed.words:
            better = word
            if not speller.is_known(word):
                if not searcher.matches_stem(word):
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
        if not self.backend.available():
            outcome.index_missing = True
            return self._search_with(self.fallback, outcome, per_page, by_date, literal)
        try:
            found = self._search_with(self.backend, outcome, per_page, by_date, literal)
            found.index_behind = self.backend.behind()
            return found
        except BackendUnavailable as exc:  # damaged, or switched away mid-search
            # str(): a log record keeping the exception would keep the damaged files open too
            log.error("search answered from the database: the index cannot be read: %s", str(exc))
            fallback = SearchOutcome(query=text, parsed=parsed, page=page, notes=list(parsed.notes))
            fallback.index_unreadable = True
            return self._search_with(self.fallback, fallback, per_page, by_date, literal)

    def _search_with(
        self,
        searcher: Searcher,
        outcome: SearchOutcome,
        per_page: int,
        by_date: bool,
        literal: bool,
    ) -> SearchOutcome:
        parsed, page = outcome.parsed, outcome.page
        found = searcher.search(parsed, page, per_page, by_date)
        if found is None:
            outcome.notes.append("Those words are too common to search for on their own.")
            return outcome
        speller = searcher.speller() if parsed.words else None
        corrected = None
        if found.total_threads == 0 and speller is not None and not literal:
            corrected = parsed.with_words(self._corrections(parsed, searcher, speller, False))
            if corrected.words == parsed.words:
                corrected = None
            else:
                retry = searcher.search(corrected, page, per_page, by_date)
                if retry is not None and retry.total_threads:
                    outcome.corrected_query = corrected.text()
                    found = retry
        if found.total_threads == 0 and parsed.widens_with_any_word:
            # Any of the corrected words first: "interveiw tips" is better served by "interview"
            # than by the typo's empty match.
            for words in (corrected, parsed) if corrected else (parsed,):
                fallback = searcher.search(words, page, per_page, by_date, any_word=True)
                if fallback is not None and fallback.total_threads:
                    outcome.any_word = True
                    if words is corrected:
                        outcome.corrected_query = corrected.text()
                    found = fallback
                    break
        if speller is not None and outcome.corrected_query is None:
            better = parsed.with_words(self._corrections(parsed, searcher, speller, True))
            if better.words != parsed.words:
                outcome.suggestion = better.text()
        return self._finish(outcome, found, per_page)

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
