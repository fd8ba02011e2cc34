"""The search page (its JSON twin is the API's, forum/api/views.py) and the moderators' list of searches that found nothing."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user

from forum import permissions
from forum.extensions import limiter
from forum.links import post_url_for_position
from forum.search import PER_PAGE, get_search, run_search, search_limit
from forum.search.service import SearchOutcome

bp = Blueprint("search", __name__)


def _run() -> SearchOutcome:
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 1000:
        abort(400, "That page number is out of range.")
    return run_search(
        request.args.get("q", ""),
        page=page,
        per_page=PER_PAGE,
        by_date=request.args.get("sort") == "date",
        literal=request.args.get("literal") == "1",
    )


def post_url_for(hit, thread) -> str:
    """A link that lands on the hit's page and post, without loading the post."""
    return post_url_for_position(thread, hit.position)


@bp.get("/search")
@limiter.limit(search_limit, error_message="That is a lot of searching.")
def search():
    outcome = _run()
    return render_template(
        "search/search.html",
        outcome=outcome,
        post_url_for=post_url_for,
        sort=request.args.get("sort", "relevance"),
        page_url=lambda p: url_for(
            "search.search",
            q=outcome.query,
            page=p,
            sort=request.args.get("sort"),
            literal=request.args.get("literal"),
        ),
    )


@bp.get("/moderation/searches")
def missed_searches():
    if not permissions.can_moderate(current_user):
        abort(403, "Only moderators can see this.")
    return render_template("search/misses.html", misses=get_search().misses())
