"""The posting rate limit, one rule for the HTML forms and the JSON API."""

from __future__ import annotations

from datetime import timedelta

from flask_login import current_user

from forum.database import utcnow


def posting_limit() -> str:
    """A post every 5 s per member, every 30 s during a member's first day."""
    if current_user.is_authenticated and utcnow() - current_user.created_at < timedelta(days=1):
        return "1/30 seconds"
    return "1/5 seconds"
