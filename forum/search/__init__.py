"""Full-text search behind one small interface: forum code calls get_search(), never an engine."""

from __future__ import annotations

import logging

from flask import Flask, current_app
from flask_login import current_user
from sqlalchemy.orm import Session

from forum.search.backend import SearchBackend
from forum.search.service import SearchService

EXTENSION = "forum_search"
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    from forum.extensions import db
    from forum.search import hooks
    from forum.search.database import DatabaseFallback

    app.config.setdefault("SEARCH_LOCK_TIMEOUT", 0.5)
    app.config.setdefault("SEARCH_DRAIN_AFTER_COMMIT", True)
    app.config.setdefault("SEARCH_DRAIN_IN_REQUEST", 200)
    app.config.setdefault("SEARCH_CACHED_PAGES", 256)
    with app.app_context():
        engine = db.engine

    def session_factory() -> Session:
        return Session(engine)

    backend = make_backend(app, engine.dialect.name, session_factory)
    app.extensions[EXTENSION] = SearchService(
        backend, fallback=DatabaseFallback(session_factory), session_factory=session_factory
    )
    hooks.register()


def make_backend(app: Flask, dialect: str, session_factory) -> SearchBackend:
    """The engine FORUM_SEARCH_BACKEND names, chosen here only; refused at start-up where it
    cannot run, rather than at the first search."""
    chosen = app.config["SEARCH_BACKEND"]
    if chosen == "postgresql":
        if dialect != "postgresql":
            raise RuntimeError(
                "FORUM_SEARCH_BACKEND=postgresql needs a PostgreSQL database, but "
                f"FORUM_DATABASE_URL is {dialect}: use whoosh, or move to PostgreSQL."
            )
        from forum.search.postgres import PostgresSearch

        return PostgresSearch(session_factory)
    if chosen != "whoosh":
        raise RuntimeError(f"FORUM_SEARCH_BACKEND must be whoosh or postgresql, not {chosen!r}.")
    from forum.search.index import WhooshIndex

    return WhooshIndex(
        app.config["SEARCH_INDEX_DIR"],
        session_factory,
        lock_timeout=app.config["SEARCH_LOCK_TIMEOUT"],
        cached_pages=int(app.config["SEARCH_CACHED_PAGES"]),
    )


def get_search(app: Flask | None = None) -> SearchService:
    return (app or current_app).extensions[EXTENSION]


PER_PAGE = 10  # results a page, on the search page and the API alike


def search_limit() -> str:
    """Searches a minute, for the page and the API alike."""
    return "30/minute" if current_user.is_authenticated else "15/minute"


def run_search(text: str, *, page: int, per_page: int, by_date: bool, literal: bool):
    """A search from the page or the API: the outcome, a miss noted for the moderators' list."""
    outcome = get_search().search(
        text, page=page, per_page=per_page, by_date=by_date, literal=literal
    )
    if outcome.total == 0 and text.strip() and page == 1 and not outcome.parsed.is_empty:
        get_search().record_miss(text)
    return outcome


START_LOCK_TIMEOUT = 5  # seconds a starting worker waits for the index lock before serving


def drain_at_start(app: Flask) -> None:
    """Apply what waits in the outbox as a web worker starts (rows a crash or a full disk left
    would otherwise wait for the next post): one bounded batch, the rest to the task queue."""
    with app.app_context():
        try:
            get_search(app).catch_up(
                app.config["SEARCH_DRAIN_IN_REQUEST"], lock_timeout=START_LOCK_TIMEOUT
            )
        except Exception:  # the queue is down, say: serving matters more; the sweep catches up
            log.exception("draining the search outbox at start failed")
