"""The search backend interface: what an engine does for SearchService, and the values they exchange.

SearchService holds the forum's rules (all words, then the corrected words, then any word; "Did
you mean"; exclusions; the zero-result log; pages of threads) and reaches an engine only through
these protocols, so no engine's types (a Whoosh `Query`, a tsquery) ever reach it:

- `Searcher` answers a *parsed* query with a page of the best post of each thread, and offers
  the vocabulary spelling corrections are made against. The database fallback
  (`forum/search/database.py`) is one: the service turns to it when the backend is unavailable.
- `SearchBackend` is a searcher that also follows the database and can be rebuilt and checked.
  When it indexes is its own affair, behind two hooks: `index_in_transaction` runs inside the
  transaction that changed the posts, `drain` after commits. Whoosh writes files outside the
  database, so its `index_in_transaction` only writes outbox rows and its `drain` applies them
  under its writer lock, with generations under a CURRENT pointer for rebuilds (all of it in
  `index.py` and `outbox.py`); a backend that keeps its index in the database itself (PostgreSQL)
  writes its index rows in `index_in_transaction`, so a post is searchable the moment its
  transaction commits, and has nothing to drain (`drain` returns an empty result, `pending` 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from forum.search.query import ParsedQuery
from forum.search.spelling import SpellingCorrector

RUNNING, ABANDONED = "running", "abandoned"  # a rebuild's state, as `search check` reports it


class BackendUnavailable(Exception):
    """The backend cannot answer now: the service answers from the database fallback instead."""


class IndexMissing(BackendUnavailable):
    """The index has not been built yet: only the CLI builds it, never a web worker."""


class IndexUnreadable(BackendUnavailable):
    """The index cannot be read (damaged files); `flask search rebuild` replaces it."""


class IndexBusy(Exception):
    """Another process is writing the index past our timeout."""


SNIPPET_CHARS = 220


def plain_snippet(body: str) -> str:
    """The start of a post, escaped: the snippet when no matched word can be marked in it."""
    return str(escape(body[:SNIPPET_CHARS])) + (" …" if len(body) > SNIPPET_CHARS else "")


@dataclass(frozen=True)
class Hit:
    """The best-matching post of one thread, as a result lists it."""

    post_id: int
    thread_id: int
    position: int
    subject: str
    board: str
    board_name: str
    author: str
    author_name: str
    posted_at: datetime
    solved: bool
    score: float
    snippet: Markup  # escaped, matched words in <mark>: never a member's raw HTML


@dataclass(frozen=True)
class HitPage:
    hits: list[Hit]
    total_threads: int


@dataclass(frozen=True)
class Changes:
    """What a flush changed that search shows: posts directly, and the threads, members and
    boards whose every post shows the change (a new subject, display name or slug)."""

    posts: frozenset[int] = frozenset()
    threads: frozenset[int] = frozenset()
    members: frozenset[int] = frozenset()
    boards: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.posts or self.threads or self.members or self.boards)


@dataclass
class DrainResult:
    """What a drain applied, what still waits, and why it stopped early (a held lock, a full disk)."""

    applied: int = 0
    pending: int = 0
    skipped_because: str | None = None


@dataclass
class CheckReport:
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    stray: list[int] = field(default_factory=list)
    rebuild: str = ""  # RUNNING or ABANDONED while a rebuild is under way or died part-way
    damage: list[str] = field(default_factory=list)  # parts that cannot be read (deep check)

    @property
    def clean(self) -> bool:
        return not (
            self.missing or self.stale or self.stray or self.damage or self.rebuild == ABANDONED
        )


Progress = Callable[[int], None]


class Searcher(Protocol):
    """Answers parsed queries; raises BackendUnavailable when it cannot."""

    def search(
        self,
        query: ParsedQuery,
        page: int,
        per_page: int,
        by_date: bool = False,
        any_word: bool = False,
    ) -> HitPage | None:
        """One page of threads, each by its best post (its newest, by_date): every clause must
        match (any clause with a word, with any_word; phrases always must), and the filters; no
        shown thread has an excluded term in any post. None when nothing in the query can be
        searched for (only stop words)."""
        ...

    def speller(self) -> SpellingCorrector | None:
        """The corrector over this searcher's vocabulary (unstemmed words and their document
        counts); None when it has no vocabulary to correct against."""
        ...

    def matches_stem(self, word: str) -> bool:
        """Whether the word, stemmed as this searcher stems it, occurs anywhere ("interviewing"),
        so an unknown form of a known word is not corrected."""
        ...


class SearchBackend(Searcher, Protocol):
    """A searcher that follows the database, and that `flask search rebuild|check` maintain."""

    def available(self) -> bool:
        """Whether it has been built: until then the service answers from the database."""
        ...

    def index_in_transaction(self, session: Session, changes: Changes) -> None:
        """Inside the transaction that made the changes: index them now, or record them for the
        drain. Rolled back with the transaction."""
        ...

    def drain(self, lock_timeout: float | None = None, max_rows: int | None = None) -> DrainResult:
        """After commits: apply changes recorded but not yet applied (only max_rows of them, if
        given). Never raises for a busy or broken index."""
        ...

    def pending(self) -> int:
        """How many recorded changes wait for a drain."""
        ...

    def behind(self) -> bool:
        """Whether changes have waited so long that results may miss new posts."""
        ...

    def rebuild(self, progress: Progress = lambda n: None) -> int:
        """Index every searchable post afresh while search keeps answering; the posts indexed."""
        ...

    def check(
        self, repair: bool = False, deep: bool = False, progress: Progress = lambda n: None
    ) -> CheckReport:
        """Compare the index with the database (deep: read all of it); repair what differs."""
        ...
