"""Builders: members and threads made through the real services, and times relative to now."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from forum.search import get_search

DEFAULT_PASSWORD = "correct horse battery staple"


def make_member(
    app: Flask,
    handle: str,
    role: str = "member",
    password: str = DEFAULT_PASSWORD,
    display_name: str | None = None,
):
    """Register a member through the service (the same rules as the form); returns its id."""
    from forum.auth.services import register
    from forum.models import Role

    with app.app_context():
        member = register(handle, display_name or handle.title(), password, role=Role(role))
        return member.id


def make_thread(
    app: Flask,
    author_id: int,
    board_id: int,
    subject: str = "How do I start?",
    body: str = "Opening post",
    replies: int = 0,
    reply_author_id: int | None = None,
) -> int:
    """A thread with n replies, made through the posting services; returns the thread id.

    The index catches up once at the end (one drain instead of one per reply) to keep tests quick.
    """
    from forum.extensions import db
    from forum.models import Board, Member
    from forum.threads import services

    app.config["SEARCH_DRAIN_AFTER_COMMIT"] = False
    try:
        with app.app_context():
            author = db.session.get(Member, author_id)
            thread = services.create_thread(author, db.session.get(Board, board_id), subject, body)
            replier = db.session.get(Member, reply_author_id or author_id)
            for n in range(replies):
                services.reply(replier, thread, f"Reply number {n + 1}")
            thread_id = thread.id
    finally:
        app.config["SEARCH_DRAIN_AFTER_COMMIT"] = True
    get_search(app).drain()
    return thread_id


def minutes_from_now(minutes: float):
    from forum.database import utcnow

    return utcnow() + timedelta(minutes=minutes)


def minutes_ago(minutes: float):
    return minutes_from_now(-minutes)


# The new-member settings a real forum starts with (the test config turns holding off).
LIMITS = {
    "held_first_posts": 1,
    "new_member_posts": 3,
    "new_member_link_cap": 2,
    "new_member_post_interval": 30,
}


def hold_first_posts(app: Flask, **changes) -> None:
    """Have an admin save the new-member settings (holding on, as a real forum starts)."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import Member
    from forum.moderation.services import save_site_settings

    with app.app_context():
        admin_id = db.session.scalar(select(Member.id).where(Member.handle == "boss"))
    admin_id = admin_id or make_member(app, "boss", role="admin")
    with app.app_context():
        save_site_settings(db.session.get(Member, admin_id), LIMITS | changes)
