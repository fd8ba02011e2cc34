"""Full-text search behind one small interface: forum code calls get_search(), never Whoosh."""

from __future__ import annotations

from flask import Flask, current_app
from sqlalchemy.orm import Session

from forum.search.service import SearchService

EXTENSION = "forum_search"


def init_app(app: Flask) -> None:
    from forum.extensions import db
    from forum.search import hooks
    from forum.search.index import WhooshIndex

    app.config.setdefault("SEARCH_LOCK_TIMEOUT", 0.5)
    app.config.setdefault("SEARCH_DRAIN_AFTER_COMMIT", True)
    app.config.setdefault("SEARCH_DRAIN_IN_REQUEST", 200)
    app.config.setdefault("SEARCH_CACHED_PAGES", 256)
    with app.app_context():
        engine = db.engine
    backend = WhooshIndex(
        app.config["SEARCH_INDEX_DIR"],
        lock_timeout=app.config["SEARCH_LOCK_TIMEOUT"],
        cached_pages=int(app.config["SEARCH_CACHED_PAGES"]),
    )
    app.extensions[EXTENSION] = SearchService(
        backend,
        session_factory=lambda: Session(engine),
    )
    hooks.register()


def get_search(app: Flask | None = None) -> SearchService:
    return (app or current_app).extensions[EXTENSION]
