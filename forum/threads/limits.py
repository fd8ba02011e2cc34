"""The posting rate limit, one rule for the HTML forms and the JSON API."""

from __future__ import annotations

from flask import request
from flask_login import current_user

from forum.threads import holds


def posting_limit() -> str:
    """A post every 5 s per member; a new member waits the admins' setting (30 s at first).
    Only a posting request reads the settings."""
    if request.method != "POST" or not current_user.is_authenticated:
        return f"1/{holds.EVERYDAY_POST_INTERVAL} seconds"
    return f"1/{holds.post_interval(current_user, holds.limits())} seconds"
