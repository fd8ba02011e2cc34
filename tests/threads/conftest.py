"""Helpers for the posting, editing and kudos tests: read and poke the database, split a thread page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from flask import Flask

from tests.conftest import make_thread


def db_scalar(app: Flask, statement):
    """One value from the database, read in a fresh app context (no app context stays open)."""
    from forum.extensions import db

    with app.app_context():
        return db.session.scalar(statement)


def db_count(app: Flask, model, *where) -> int:
    from sqlalchemy import func, select

    return db_scalar(app, select(func.count()).select_from(model).where(*where))


def db_update(app: Flask, model, row_id: int, **values) -> None:
    """Change a row behind the application's back (a clock moved on, a moderator's console)."""
    from sqlalchemy import update

    from forum.extensions import db

    with app.app_context():
        db.session.execute(update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def minutes_from_now(minutes: float):
    from forum.database import utcnow

    return utcnow() + timedelta(minutes=minutes)


def minutes_ago(minutes: float):
    return minutes_from_now(-minutes)


def post_id_at(app: Flask, thread_id: int, position: int) -> int:
    from sqlalchemy import select

    from forum.models import Post

    return db_scalar(
        app, select(Post.id).where(Post.thread_id == thread_id, Post.position == position)
    )


def member_value(app: Flask, member_id: int, column: str):
    from sqlalchemy import select

    from forum.models import Member

    return db_scalar(app, select(getattr(Member, column)).where(Member.id == member_id))


def articles(html: str) -> list[str]:
    """The posts of a thread page, one HTML string each."""
    return re.findall(r"<article.*?</article>", html, flags=re.S)


def textarea(html: str, name: str = "body") -> str:
    """What a form's textarea holds, as the browser would show it."""
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, flags=re.S)
    assert match, f"no textarea {name!r}"
    text = unescape(match[1])
    return text[2:] if text.startswith("\r\n") else text  # WTForms opens with a line break


def field_error(html: str, field: str) -> str | None:
    """The message shown beside a form field, if any."""
    match = re.search(rf'<p class="field-error" id="{field}-error" role="alert">(.*?)</p>', html)
    return unescape(match[1]) if match else None


@pytest.fixture
def thread(app: Flask, member: int, board: int) -> int:
    """Alice's thread "How do I start?" with no replies yet."""
    return make_thread(app, member, board)
