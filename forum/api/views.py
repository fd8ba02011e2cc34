"""The JSON API's operations, each calling the service its HTML page calls; and two pages for
people: personal tokens in settings, and the API's documentation."""

from __future__ import annotations

import functools

import flask
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_smorest import Blueprint, abort

from forum import lookups, permissions
from forum.api import auth, forms, problems, schemas, tokens
from forum.errors import ForumError
from forum.extensions import csrf, db, limiter
from forum.forms import ButtonForm
from forum.links import post_url_for_position, thread_url
from forum.members import services as members
from forum.models import HeldPost, Member, Post, Thread, WatchLevel
from forum.notifications import services as notifications
from forum.search import PER_PAGE, run_search, search_limit
from forum.threads import lists, services
from forum.threads.limits import posting_limit

bp = Blueprint(
    "api", __name__, url_prefix=problems.PREFIX, description="The forum's JSON API, version 1."
)
pages = flask.Blueprint("api_pages", __name__)
BEARER = [{"bearerAuth": []}, {"cookieSession": []}]
PLACEHOLDER = "This post was removed by a moderator."

csrf.exempt(bp)  # auth.authenticate runs the check itself, for cookie sessions only
bp.before_request(auth.authenticate)
problems.register(bp)
limiter.limit(auth.rate_limit, key_func=auth.rate_limit_key)(bp)
limit_posting = limiter.limit(
    posting_limit,
    key_func=auth.rate_limit_key,
    scope="api-posting",
    deduct_when=lambda response: response.status_code == 201,
    error_message="You are posting too fast.",
)


@bp.after_request
def conditional_and_cors(response):
    """ETag on every successful read (If-None-Match answers 304); CORS for the configured
    origins, reads only (a dozen lines rather than flask-cors: one blueprint, GET only)."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.add_etag()
        response.headers["Cache-Control"] = "no-cache"
        response.vary.update(("Authorization", "Cookie"))
        response.make_conditional(request)
    origin = request.headers.get("Origin")
    reading = request.method in ("GET", "HEAD", "OPTIONS")
    if reading and origin and origin in current_app.config["API_CORS_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, If-None-Match"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        response.vary.add("Origin")
    return response


WRITE_REFUSALS = {
    401: "No token, or a revoked one (WWW-Authenticate: Bearer)",
    403: "Not allowed: not yours, a read-only token, a suspended account",
    404: "No such thread or post, or one hidden from you",
    409: "A locked thread, or an edit window that has closed",
    429: "A rate limit (Retry-After says when to try again)",
}


def problems_documented(view, statuses: dict[int, str]):
    """The problem+json answers an operation may give, in the OpenAPI document."""
    for status, description in statuses.items():
        view = bp.alt_response(
            status,
            schema=schemas.ProblemSchema,
            description=description,
            content_type=problems.MEDIA_TYPE,
        )(view)
    return view


def writes(view):
    """A write: refused (401/403) before its body is even read unless the caller may write."""
    documented = problems_documented(bp.doc(security=BEARER)(view), WRITE_REFUSALS)

    @functools.wraps(documented)
    def checked(*args, **kwargs):
        auth.require_write()
        return documented(*args, **kwargs)

    return checked


def absolute(path: str) -> str:
    return request.host_url.rstrip("/") + path


def _member_ref(member: Member) -> dict:
    return {"handle": member.handle, "display_name": member.display_name}


def _thread_summary(thread: Thread) -> dict:
    return {
        "id": thread.id,
        "subject": thread.subject,
        "board": thread.board.slug,
        "author": _member_ref(thread.author),
        "post_count": thread.post_count,
        "reply_count": thread.reply_count,
        "is_solved": thread.is_solved,
        "is_locked": thread.is_locked,
        "is_pinned": thread.is_pinned,
        "last_posted_at": thread.last_posted_at,
        "created_at": thread.created_at,
        "url": absolute(thread_url(thread)),
        "api_url": url_for("api.thread", thread_id=thread.id, _external=True),
    }


def _post(row, thread: Thread) -> dict:
    """A post as the thread page shows it: a removed one is a placeholder without its text
    (moderators see the text, as on the page)."""
    shown = not row.is_removed or permissions.can_moderate(current_user)
    return {
        "id": row.id,
        "thread_id": thread.id,
        "position": row.position,
        "of": thread.post_count,
        "subject": row.subject,
        "body_html": row.body_html if shown else None,
        "is_removed": row.is_removed,
        "placeholder": PLACEHOLDER if row.is_removed else None,
        "created_at": row.created_at,
        "edited_at": row.edited_at,
        "author": {
            "handle": row.handle,
            "display_name": row.display_name,
            "rank": row.rank_name,
            "featured_badge": row.badge_name,
            "title": row.title,
        },
        "kudos": row.kudos_count,
        "is_solution": thread.solution_post_id == row.id,
        "url": absolute(post_url_for_position(thread, row.position)),
    }


def _visible_thread(thread_id: int) -> Thread:
    return services.visible_thread(thread_id, current_user) or abort(404, message="No such thread.")


def _visible_post(post_id: int) -> Post:
    return services.visible_post(post_id, current_user) or abort(404, message="No such post.")


def _post_by_position(thread: Thread, position: int) -> dict:
    """One post, in the thread page's own query (a page of one)."""
    (row,) = services.thread_page(thread, position, 1)
    return _post(row, thread)


# Reads


@bp.get("/boards")
@bp.response(200, schemas.BoardListSchema)
def boards():
    """Every board, in the front page's order."""
    return {
        "boards": [
            {
                "id": board.id,
                "slug": board.slug,
                "name": board.name,
                "description": board.description,
                "thread_count": board.thread_count,
                "post_count": board.post_count,
                "threads": url_for("api.board_threads", slug=board.slug, _external=True),
            }
            for board in lookups.boards_in_order()
        ]
    }


@bp.get("/boards/<slug>/threads")
@functools.partial(problems_documented, statuses={404: "No such board"})
@bp.arguments(schemas.AfterArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.ThreadPageSchema)
def board_threads(slug: str, after: str | None = None):
    """A board's visible threads, latest activity first, a keyset page at a time: follow `next`."""
    board = lookups.board_by_slug(slug) or abort(404, message="No such board.")
    try:
        cursor = lists.Cursor.parse(after) if after is not None else None
    except ValueError:
        abort(422, messages={"query": {"after": ["Not a cursor from a next link."]}})
    page = lists.thread_list(
        lists.Listing.LATEST,
        after=cursor,
        per_page=current_app.config["THREADS_PER_PAGE"],
        board_id=board.id,
    )
    older = page.older and url_for(
        "api.board_threads", slug=board.slug, after=page.older.token, _external=True
    )
    return {"threads": [_thread_summary(t) for t in page.threads], "next": older}


@bp.get("/threads/<int:thread_id>")
@functools.partial(
    problems_documented, statuses={404: "No such thread (or hidden from you), or no such page"}
)
@bp.arguments(schemas.PageArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.ThreadSchema)
def thread(thread_id: int, page: int):
    """A thread and a page of its posts (FORUM_POSTS_PER_PAGE), by stored position."""
    thread = _visible_thread(thread_id)
    per_page = current_app.config["POSTS_PER_PAGE"]
    pages = services.page_count(thread.post_count, per_page)
    if page > pages:
        abort(404, message=f"This thread has {pages} pages.")
    rows = services.thread_page(thread, page, per_page)
    following = page < pages and url_for(
        "api.thread", thread_id=thread.id, page=page + 1, _external=True
    )
    return {
        **_thread_summary(thread),
        "page": page,
        "pages": pages,
        "solution_post_id": thread.solution_post_id,
        "posts": [_post(row, thread) for row in rows],
        "next": following or None,
    }


@bp.get("/posts/<int:post_id>")
@functools.partial(
    problems_documented, statuses={404: "No such post, or its thread is hidden from you"}
)
@bp.response(200, schemas.PostSchema)
def post(post_id: int):
    """One post, as its thread shows it."""
    post = _visible_post(post_id)
    return _post_by_position(post.thread, post.position)


@bp.get("/members/<handle>")
@functools.partial(problems_documented, statuses={404: "No such member"})
@bp.response(200, schemas.ProfileSchema)
def member(handle: str):
    """A member's public profile (never their e-mail address)."""
    member = lookups.member_by_handle(handle) or abort(404, message="No such member.")
    profile = members.profile(member)
    return {
        "handle": member.handle,
        "display_name": member.display_name,
        "member_since": member.member_since,
        "rank": member.shown_rank.name if member.shown_rank else None,
        "featured_badge": member.featured_badge.name if member.featured_badge else None,
        "post_count": member.post_count,
        "kudos_received": member.kudos_received,
        "solution_count": member.solution_count,
        "signature_html": member.signature_html,
        "badges": [
            {"name": held.badge.name, "granted_at": held.granted_at} for held in profile.badges
        ],
        "url": absolute(url_for("members.profile", handle=member.handle)),
    }


@bp.get("/search")
@limiter.limit(
    search_limit, key_func=auth.rate_limit_key, error_message="That is a lot of searching."
)
@bp.arguments(schemas.SearchArgs, location="query")
@bp.response(200, schemas.SearchSchema)
def search(args: dict):
    """The search page's results as JSON: same query language, ranking and spelling help."""
    outcome = run_search(
        args["q"],
        page=args["page"],
        per_page=PER_PAGE,
        by_date=args["sort"] == "date",
        literal=args.get("literal") == "1",
    )
    return {
        "query": outcome.query,
        "corrected_query": outcome.corrected_query,
        "suggestion": outcome.suggestion,
        "total": outcome.total,
        "page": outcome.page,
        "pages": outcome.pages,
        "per_page": PER_PAGE,
        "any_word": outcome.any_word,
        "index_missing": outcome.index_missing,
        "index_unreadable": outcome.index_unreadable,
        "index_behind": outcome.index_behind,
        "notes": outcome.notes,
        "results": [
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
                "url": post_url_for_position(outcome.threads[hit.thread_id], hit.position),
            }
            for hit in outcome.hits
        ],
    }


# Writes: a token with the write scope, or a cookie session with X-CSRFToken


def _awaiting_review(held: HeldPost) -> flask.Response:
    """202: the submission is kept, held for a moderator (a new member's first posts), as the
    HTML form says with its "awaiting review" page."""
    url = url_for("threads.held_post", held_id=held.id)
    body = schemas.HeldSchema().dump(
        {
            "held_id": held.id,
            "status": "pending",
            "message": "Your post is awaiting review by a moderator.",
            "url": absolute(url),
        }
    )
    return flask.make_response(flask.jsonify(body), 202, {"Location": url})


HELD = "Held for a moderator's review (a new member's first posts); nothing is public yet"


@bp.post("/threads")
@writes
@limit_posting
@bp.arguments(schemas.NewThreadSchema)
@bp.response(201, schemas.ThreadSummarySchema)
@bp.alt_response(202, schema=schemas.HeldSchema, description=HELD)
def start_thread(args: dict):
    """Start a thread on a board: the new-thread form's rules and limits."""
    board = lookups.board_by_slug(args["board"])
    if board is None:
        abort(422, messages={"json": {"board": ["No board has this slug."]}})
    thread = services.create_thread(current_user, board, args["subject"], args["body"])
    if isinstance(thread, HeldPost):
        return _awaiting_review(thread)
    thread = db.session.get(Thread, thread.id)
    return _thread_summary(thread), {"Location": url_for("api.thread", thread_id=thread.id)}


@bp.post("/threads/<int:thread_id>/posts")
@writes
@limit_posting
@bp.arguments(schemas.ReplySchema)
@bp.response(201, schemas.PostSchema)
@bp.alt_response(202, schema=schemas.HeldSchema, description=HELD)
def reply(args: dict, thread_id: int):
    """Reply to a thread: the reply form's rules (locked threads, suspensions) and limits."""
    thread = _visible_thread(thread_id)
    posted = services.reply(current_user, thread, args["body"])
    if isinstance(posted, HeldPost):
        return _awaiting_review(posted)
    thread = db.session.get(Thread, thread_id)
    return _post_by_position(thread, posted.position), {
        "Location": url_for("api.post", post_id=posted.id)
    }


@bp.patch("/posts/<int:post_id>")
@writes
@bp.arguments(schemas.EditSchema)
@bp.response(200, schemas.PostSchema)
def edit_post(args: dict, post_id: int):
    """Edit a post: its author within the edit window, moderators any time."""
    post = _visible_post(post_id)
    edited = services.edit_post(current_user, post, args["body"], args.get("subject"))
    return _post_by_position(db.session.get(Thread, edited.thread_id), edited.position)


def _kudos(post_id: int, act) -> dict:
    post = _visible_post(post_id)
    act(current_user, post)
    post = db.session.get(Post, post_id, populate_existing=True)
    given = post.id in services.kudos_given(current_user, [post.id])
    return {"post_id": post.id, "kudos": post.kudos_count, "given": given}


@bp.put("/posts/<int:post_id>/kudos")
@writes
@limiter.limit("50/day", key_func=auth.rate_limit_key, error_message="That is 50 kudos today.")
@bp.response(200, schemas.KudosSchema)
def give_kudos(post_id: int):
    """Give kudos (once per member per post; giving again changes nothing)."""
    return _kudos(post_id, services.give_kudos)


@bp.delete("/posts/<int:post_id>/kudos")
@writes
@bp.response(200, schemas.KudosSchema)
def take_back_kudos(post_id: int):
    """Take back a kudos given."""
    return _kudos(post_id, services.take_back_kudos)


@bp.put("/threads/<int:thread_id>/solution")
@writes
@bp.arguments(schemas.SolutionSchema)
@bp.response(200, schemas.SolutionStateSchema)
def accept_solution(args: dict, thread_id: int):
    """Mark a reply as the accepted solution (null clears it): the asker or a moderator."""
    thread = _visible_thread(thread_id)
    post = db.session.get(Post, args["post_id"]) if args["post_id"] is not None else None
    if args["post_id"] is not None and post is None:
        abort(422, messages={"json": {"post_id": ["That is not a reply in this thread."]}})
    services.set_solution(current_user, thread, post)
    thread = db.session.get(Thread, thread_id, populate_existing=True)
    return {"thread_id": thread.id, "solution_post_id": thread.solution_post_id}


WATCH_LEVELS = {"watching": WatchLevel.WATCHING, "muted": WatchLevel.MUTED}


@bp.put("/threads/<int:thread_id>/watch")
@writes
@bp.arguments(schemas.WatchSchema)
@bp.response(200, schemas.WatchStateSchema)
def watch_thread(args: dict, thread_id: int):
    """Watch a thread (hear of every reply) or mute it."""
    thread = _visible_thread(thread_id)
    notifications.set_thread_level(current_user, thread, WATCH_LEVELS[args["level"]])
    return {"thread_id": thread_id, "level": args["level"]}


@bp.delete("/threads/<int:thread_id>/watch")
@writes
@bp.response(200, schemas.WatchStateSchema)
def unwatch_thread(thread_id: int):
    """Neither watch nor mute the thread any more."""
    thread = _visible_thread(thread_id)
    notifications.set_thread_level(current_user, thread, None)
    return {"thread_id": thread_id, "level": None}


# Pages for people


@pages.route("/settings/tokens", methods=["GET", "POST"])
@login_required
@limiter.limit("20/hour", methods=["POST"], error_message="That is 20 new tokens this hour.")
def token_settings():
    """The member's tokens; a new one's secret is shown on this response only, never again."""
    form = forms.TokenForm()
    created = None
    if form.validate_on_submit():
        try:
            created = tokens.create_token(current_user, form.name.data, form.write.data)
        except ForumError as exc:
            form.name.errors.append(str(exc))
        else:
            form = forms.TokenForm(formdata=None)
    html = render_template(
        "api/tokens.html",
        form=form,
        created=created,
        tokens=tokens.live_tokens(current_user),
        revoke_form=ButtonForm(),
    )
    return html, 201 if created else 400 if form.errors else 200


@pages.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not ButtonForm().validate_on_submit():
        flash("That form had expired; please try again.", "warning")
    elif tokens.revoke_token(current_user, token_id):
        flash("Token revoked: programs using it can no longer sign in.", "success")
    else:
        flash("That token is not yours, or was already revoked.", "warning")
    return redirect(url_for("api_pages.token_settings"))


@pages.get("/api/v1/docs")
def docs():
    """The OpenAPI document as a page of operations (no script: the CSP allows none inline,
    and Swagger UI would need a CDN)."""
    spec = current_app.extensions["forum_api"].spec.to_dict()
    return render_template("api/docs.html", spec=spec, schemas=spec["components"]["schemas"])
