"""Registering, logging in and out, changing the password."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from forum.auth import views  # noqa: E402, F401  (views register routes on bp)
