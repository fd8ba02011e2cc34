"""Member profiles."""

from flask import Blueprint

bp = Blueprint("members", __name__, url_prefix="/members")

from forum.members import views  # noqa: E402, F401  (views register routes on bp)
