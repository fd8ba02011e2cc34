"""Boards, threads and posts: reading, posting, editing, kudos."""

from flask import Blueprint

bp = Blueprint("threads", __name__)

from forum.threads import views  # noqa: E402, F401  (views register routes on bp)
