"""The search page, its JSON twin under /api/v1, and the moderators' list of searches that found nothing."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, render_template, request, url_for
from flask_login import current_user

from forum import permissions
from forum.extensions import limiter
from forum.links import post_url_for_position
from forum.search import get_search
from forum.search.service import SearchOutcome

bp = Blueprint("search", __name__)
PER_PAGE = 10


def search_limit() -> str:
    return "30/minute" if current_user.is_authenticated else "15/minute"


def _run() -> SearchOutcome:
    text = request.args.get("q", "")
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 1000:
        abort(400, "That page number is out of range.")
    outcome = get_search().search(
        text,
        page=page,
        per_page=PER_PAGE,
        by_date=request.args.get("sort") == "date",
        literal=request.args.get("literal") == "1",
    )
    if outcome.total == 0 and text.strip() and page == 1 and not outcome.parsed.is_empty:
        get_search().record_miss(text)
    return outcome


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


@bp.get("/api/v1/search")
@limiter.limit(search_limit)
def api_search():
    outcome = _run()
    return jsonify(
        query=outcome.query,
        corrected_query=outcome.corrected_query,
        suggestion=outcome.suggestion,
        total=outcome.total,
        page=outcome.page,
        pages=outcome.pages,
        any_word=outcome.any_word,
        index_missing=outcome.index_missing,
        index_unreadable=outcome.index_unreadable,
        index_behind=outcome.index_behind,
        notes=outcome.notes,
        results=[
            {
                "thread_id": hit.thread_id,
                "post_id": hit.post_id,
                "position": hit.position,
                "post_count": outcome.threads[hit.thread_id].post_count,
                "subject": outcome.threads[hit.thread_id].subject,
                "board": hit.board_name,
                "author": hit.author,
                "author_name": hit.author_name,
                "posted_at": hit.posted_at.isoformat(),
                "solved": hit.solved,
                "snippet": str(hit.snippet),
                "score": round(hit.score, 4),
                "url": post_url_for(hit, outcome.threads[hit.thread_id]),
            }
            for hit in outcome.hits
        ],
        per_page=PER_PAGE,
    )


@bp.get("/moderation/searches")
def missed_searches():
    if not permissions.can_moderate(current_user):
        abort(403, "Only moderators can see this.")
    return render_template("search/misses.html", misses=get_search().misses())
