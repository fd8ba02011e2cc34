"""Reading and posting views: parse the form, call one service, render or redirect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms import SelectChoice

from forum import lookups, markup, permissions
from forum.database import utcnow
from forum.errors import ForumError, InvalidInput
from forum.extensions import db, limiter
from forum.forms import ButtonForm
from forum.links import post_url, post_url_for_position, thread_url
from forum.models import Board, HeldPost, Member, Post, Thread
from forum.notifications import services as notifications
from forum.threads import drafts, history, holds, lists, services
from forum.threads.blocks import post_blocks
from forum.threads.forms import EditForm, ReplyDraftForm, ReplyForm, ThreadDraftForm, ThreadForm
from forum.threads.limits import posting_limit
from forum.web import database_int, keeps_form_on_csrf_failure, page_arg

bp = Blueprint("threads", __name__)


def _posted(response) -> bool:
    return response.status_code in (302, 303)


limit_posting = limiter.limit(
    posting_limit,
    methods=["POST"],
    exempt_when=lambda: "preview" in request.form,
    deduct_when=_posted,
    error_message="You are posting too fast.",
)


@dataclass(frozen=True)
class RenderedButtonForm:
    """A ButtonForm's hidden CSRF field, rendered once for a page's many one-button forms
    (WTForms rendered it anew per button: 60% of a member's thread page)."""

    csrf_token: Markup


@dataclass
class PageContext:
    """What the post actions need to know about a logged-in viewer, computed once per page."""

    member: Member
    kudos_given: set[int]
    can_moderate: bool
    can_reply: bool
    can_accept: bool
    edit_window: timedelta
    button_form: RenderedButtonForm

    @classmethod
    def for_thread(cls, thread: Thread, posts: list) -> PageContext:
        return cls(
            member=current_user._get_current_object(),  # the proxy costs a lookup per use
            kudos_given=services.kudos_given(current_user, [p.id for p in posts]),
            can_moderate=permissions.can_moderate(current_user),
            can_reply=permissions.can_reply(current_user, thread),
            can_accept=permissions.can_accept_solution(current_user, thread),
            edit_window=timedelta(minutes=current_app.config["EDIT_WINDOW_MINUTES"]),
            button_form=RenderedButtonForm(Markup(ButtonForm().csrf_token())),
        )

    def can_edit(self, post) -> bool:
        return permissions.can_edit(self.member, post, self.edit_window)

    def can_see_history(self, post) -> bool:
        return post.edited_at is not None and permissions.can_see_history(self.member, post)


def render_posts(thread: Thread, rows: list) -> list[Markup]:
    """Each post's cached block, with the viewer's buttons put in (none for visitors)."""
    ctx = PageContext.for_thread(thread, rows) if current_user.is_authenticated else None
    macros = current_app.jinja_env.get_template("_macros/posts.html").module
    blocks = post_blocks()
    return [
        blocks.render(
            row,
            thread.post_count,
            thread.solution_post_id == row.id,
            show_text=not row.is_removed or (ctx is not None and ctx.can_moderate),
            actions=macros.render_post_actions(row, thread, ctx) if ctx else None,
            history_link=ctx is not None and ctx.can_see_history(row),
        )
        for row in rows
    ]


def _refuse_unless(check, *args) -> None:
    """403 with the service's own reason when a posting rule refuses."""
    try:
        check(*args)
    except ForumError as exc:
        abort(403, str(exc))


def _visible_thread(thread_id: int) -> Thread:
    return services.visible_thread(thread_id, current_user) or abort(404)


def _visible_post(post_id: int) -> Post:
    return services.visible_post(post_id, current_user) or abort(404)


@bp.get("/")
def index():
    return render_template("threads/index.html", boards=services.front_page_boards())


@bp.get("/b/<slug>")
def board(slug: str):
    board = lookups.board_by_slug(slug)
    if board is None:
        moved = lookups.board_once_at(slug) or abort(404)
        return redirect(url_for("threads.board", slug=moved.slug, **request.args), 301)
    page = page_arg()
    threads, pages = services.board_threads(board, page, current_app.config["THREADS_PER_PAGE"])
    if page > pages:
        abort(404)
    member = current_user if current_user.is_authenticated else None
    return render_template(
        "threads/board.html",
        board=board,
        threads=threads,
        read=notifications.read_positions(current_user, [t.id for t in threads]) if member else {},
        board_watched=member and notifications.board_level(member, board) is not None,
        watch_form=ButtonForm() if member else None,
        first_unread=lambda t, last_read: post_url_for_position(t, last_read + 1),
        page=page,
        pages=pages,
        page_url=lambda p: url_for("threads.board", slug=board.slug, page=p if p > 1 else None),
    )


UNANSWERED_TABS = {
    lists.Listing.NO_REPLIES: "No replies",
    lists.Listing.NO_SOLUTION: "No accepted solution",
}


def _after_arg() -> lists.Cursor | None:
    """?after=<cursor> for a keyset-paged list (absent: its first page); nonsense is no such page."""
    raw = request.args.get("after")
    if raw is None:
        return None
    try:
        return lists.Cursor.parse(raw)
    except ValueError:
        abort(404)


def _thread_list(listing: lists.Listing, template: str, **context):
    after = _after_arg()
    page = lists.thread_list(listing, after=after, per_page=current_app.config["THREADS_PER_PAGE"])
    older = page.older and url_for(request.endpoint, after=page.older.token, **request.view_args)
    newest = after and url_for(request.endpoint, **request.view_args)
    return render_template(template, threads=page.threads, older=older, newest=newest, **context)


@bp.get("/latest")
def latest():
    return _thread_list(lists.Listing.LATEST, "threads/latest.html")


@bp.get("/unanswered", defaults={"show": lists.Listing.NO_REPLIES.value})
@bp.get("/unanswered/<show>")
def unanswered(show: str):
    listing = next((tab for tab in UNANSWERED_TABS if tab.value == show), None) or abort(404)
    return _thread_list(listing, "threads/unanswered.html", tab=listing, tabs=UNANSWERED_TABS)


@bp.get("/t/<int:thread_id>")
@bp.get("/t/<int:thread_id>-<slug>")
def thread(thread_id: int, slug: str | None = None):
    state = None
    if current_user.is_authenticated:
        found = notifications.thread_with_state(thread_id, current_user)
        if found is None:
            abort(404)
        thread, state = found
    else:
        thread = db.session.get(Thread, thread_id) or abort(404)
    page = page_arg()
    if thread.merged_into_id is not None:
        return redirect(_merged_url(thread, page), 301)
    if thread.is_hidden and not permissions.can_moderate(current_user):
        abort(404)
    if slug != thread.slug:
        return redirect(
            url_for(
                "threads.thread",
                thread_id=thread.id,
                slug=thread.slug,
                page=page if page > 1 else None,
            ),
            301,
        )
    per_page = current_app.config["POSTS_PER_PAGE"]
    pages = services.page_count(thread.post_count, per_page)
    if page > pages:
        abort(404)
    can_moderate = permissions.can_moderate(current_user)
    can_reply = permissions.can_reply(current_user, thread)
    draft = drafts.draft_for(current_user, thread=thread) if can_reply else None
    rows = services.thread_page(thread, page, per_page)
    # the viewer's own replies awaiting review, after the last post (no query without any)
    pending = holds.pending_replies(current_user, thread.id) if page == pages else []
    first_unread = None
    if state is not None and state.last_read and state.last_read < thread.post_count:
        first_unread = post_url_for_position(thread, state.last_read + 1)
    html = render_template(
        "threads/thread.html",
        thread=thread,
        posts=render_posts(thread, rows),
        pending=pending,
        watch=state,
        first_unread=first_unread,
        watch_form=ButtonForm() if state else None,
        page=page,
        pages=pages,
        page_url=lambda p: thread_url(thread, p),
        can_reply=can_reply,
        reply_form=ReplyForm(body=draft.body if draft else None) if can_reply else None,
        draft=draft,
        can_moderate=can_moderate,
        post_link=post_url,
    )
    if state is not None and rows:  # after rendering: the write ends the page's read transaction
        notifications.note_read(current_user, thread, rows[-1].position, state.last_read)
    return html


def _merged_url(thread: Thread, page: int) -> str:
    """Where a page of a merged thread went: its posts kept their order in the target, so page
    N starts (N-1) pages of posts after the first moved one."""
    first = db.session.get(Post, thread.merged_post_id) if thread.merged_post_id else None
    if first is None:
        return thread_url(db.get_or_404(Thread, thread.merged_into_id))
    position = first.position + (page - 1) * current_app.config["POSTS_PER_PAGE"]
    return post_url_for_position(first.thread, min(position, first.thread.post_count))


@bp.get("/p/<int:post_id>")
def permalink(post_id: int):
    post = _visible_post(post_id)
    return redirect(post_url(post))


def _compose(form, submit, template: str, **context):
    """The posting forms' flow: Preview renders the draft; Post runs submit (which returns the
    redirect), showing a refused body beside the field and any other refusal as a 403."""
    preview = None
    if form.validate_on_submit():
        if form.preview.data:
            preview = markup.render_markdown(form.body.data)
        else:
            try:
                return submit()
            except InvalidInput as exc:
                form.body.errors.append(str(exc))
            except ForumError as exc:
                abort(403, str(exc))
    status = 400 if form.errors else 200
    return render_template(template, form=form, preview=preview, **context), status


@bp.route("/new", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
@login_required
@limit_posting
def new_thread():
    _refuse_unless(services.check_can_post, current_user)
    boards = lookups.boards_in_order()
    form = _with_boards(ThreadForm(), boards)
    draft = _fill_from_draft(form, boards) if request.method == "GET" else None

    def submit():
        board = db.session.get(Board, form.board.data)
        thread = services.create_thread(current_user, board, form.subject.data, form.body.data)
        if isinstance(thread, HeldPost):
            return _awaiting_review(url_for("threads.held_post", held_id=thread.id))
        return redirect(thread_url(thread))

    return _compose(form, submit, "threads/new_thread.html", draft=draft)


def _awaiting_review(where: str):
    flash("Your post is awaiting review by a moderator.", "info")
    return redirect(where)


@bp.get("/held/<int:held_id>")
@login_required
def held_post(held_id: int):
    """A held submission, for its author (and moderators): awaiting review, approved or not."""
    held = holds.held_for_viewer(held_id, current_user) or abort(404)
    return render_template("threads/held.html", held=held)


def _fill_from_draft(form, boards: list[Board]):
    """Open the new-thread form on the board ?board= names, holding the member's draft for it;
    a bare /new opens their latest draft, on its board. Returns the draft (or None)."""
    chosen = next((b for b in boards if b.slug == request.args.get("board")), None)
    if chosen:
        draft = drafts.draft_for(current_user, board=chosen)
    else:
        draft = drafts.latest_thread_draft(current_user)
    form.board.data = draft.board_id if draft else chosen and chosen.id
    if draft:
        form.subject.data, form.body.data = draft.subject, draft.body
    return draft


def _with_boards(form, boards: list[Board]):
    """A new-thread form whose board menu lists these boards."""
    form.board.choices = [SelectChoice(b.id, b.name) for b in boards]
    return form


@bp.route("/t/<int:thread_id>/reply", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
@login_required
@limit_posting
def reply(thread_id: int):
    thread = _visible_thread(thread_id)
    _refuse_unless(services.check_can_reply, current_user, thread)
    form = ReplyForm()
    draft = None
    if request.method == "GET":
        draft = drafts.draft_for(current_user, thread=thread)
        quoted_id = request.args.get("quote", type=database_int)
        quote = services.quote_text(thread, quoted_id) if quoted_id else ""
        form.body.data = "\n\n".join(text for text in (draft and draft.body, quote) if text)

    def submit():
        posted = services.reply(current_user, thread, form.body.data)
        if isinstance(posted, HeldPost):
            pages = services.page_count(thread.post_count, current_app.config["POSTS_PER_PAGE"])
            return _awaiting_review(f"{thread_url(thread, pages)}#held-{posted.id}")
        return redirect(post_url(posted))

    return _compose(
        form,
        submit,
        "threads/reply.html",
        thread=thread,
        draft=draft,
    )


limit_draft_saves = limiter.limit(
    "30/minute", error_message="Drafts are saved at most 30 times a minute."
)


def _wants_json() -> bool:
    """The script's autosave asks for JSON; the Save draft button is a plain form submission."""
    return request.accept_mimetypes.best == "application/json"


def _save_draft(form, save, page):
    """The draft endpoints' flow: save() keeps the draft and returns where the form is, for the
    button's redirect; page() shows the form again with what was wrong. The script gets JSON."""
    if form.validate_on_submit():
        try:
            back_to = save()
        except ForumError as exc:
            abort(403, str(exc))
        if _wants_json():
            return {"saved": True, "message": f"Draft saved at {utcnow():%H:%M} UTC."}
        flash("Your draft is saved.", "success")
        return redirect(back_to)
    if _wants_json():
        if form.csrf_token.errors:
            return {"saved": False, "error": "This page has expired: reload it to go on."}, 400
        problems = [message for messages in form.errors.values() for message in messages]
        return {"saved": False, "error": " ".join(problems)}, 400
    return page(), 400


@bp.post("/t/<int:thread_id>/draft")
@keeps_form_on_csrf_failure
@login_required
@limit_draft_saves
def save_reply_draft(thread_id: int):
    thread = _visible_thread(thread_id)
    form = ReplyDraftForm()

    def save():
        drafts.save_draft(current_user, thread=thread, body=form.body.data)
        return url_for("threads.reply", thread_id=thread.id)

    return _save_draft(
        form, save, lambda: render_template("threads/reply.html", form=form, thread=thread)
    )


@bp.post("/new/draft")
@keeps_form_on_csrf_failure
@login_required
@limit_draft_saves
def save_thread_draft():
    boards = lookups.boards_in_order()
    form = _with_boards(ThreadDraftForm(), boards)

    def save():
        board = next(b for b in boards if b.id == form.board.data)
        drafts.save_draft(current_user, board=board, subject=form.subject.data, body=form.body.data)
        return url_for("threads.new_thread", board=board.slug)

    return _save_draft(form, save, lambda: render_template("threads/new_thread.html", form=form))


def _discard_draft(back_to: str, **which):
    """Discard a draft from its form's button, then show the form (empty) again."""
    if not ButtonForm().validate_on_submit():
        flash("That form had expired; please try again.", "warning")
    else:
        drafts.discard_draft(current_user, **which)
        flash("Your draft is discarded.", "success")
    return redirect(back_to)


@bp.post("/t/<int:thread_id>/draft/discard")
@keeps_form_on_csrf_failure
@login_required
def discard_reply_draft(thread_id: int):
    thread = _visible_thread(thread_id)
    return _discard_draft(thread_url(thread), thread=thread)


@bp.post("/new/draft/discard")
@keeps_form_on_csrf_failure
@login_required
def discard_thread_draft():
    """The draft of the board chosen in the form (a draft is kept per board)."""
    board_id = request.form.get("board", type=database_int)
    board = (db.session.get(Board, board_id) if board_id else None) or abort(404)
    return _discard_draft(url_for("threads.new_thread", board=board.slug), board=board)


@bp.get("/p/<int:post_id>/history")
@login_required
def post_history(post_id: int):
    post = db.get_or_404(Post, post_id)
    _refuse_unless(history.check_can_see_history, current_user, post)
    return render_template(
        "threads/history.html",
        post=post,
        versions=history.post_history(current_user, post),
        post_link=post_url(post),
    )


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
@login_required
def edit(post_id: int):
    post = _visible_post(post_id)
    _refuse_unless(services.check_can_edit, current_user, post)
    opening = post.position == 1
    form = EditForm()
    if not opening:
        del form.subject  # only the opening post carries the thread's subject
    if request.method == "GET":
        form.body.data = post.body_source
        if opening:
            form.subject.data = post.thread.subject

    def submit():
        subject = form.subject.data if opening else None
        edited = services.edit_post(current_user, post, form.body.data, subject)
        flash("Your changes are saved.", "success")
        return redirect(post_url(edited))

    return _compose(form, submit, "threads/edit.html", post=post)


def _kudos_button(post_id: int, act):
    """Give or take back kudos from a post's button, then show the post again."""
    post = _visible_post(post_id)
    if not ButtonForm().validate_on_submit():
        flash("That form had expired; please try again.", "warning")
    else:
        try:
            act(current_user, post)
        except ForumError as exc:
            abort(403, str(exc))
    return redirect(post_url(post))


@bp.post("/p/<int:post_id>/kudos")
@keeps_form_on_csrf_failure
@login_required
@limiter.limit("50/day", deduct_when=_posted, error_message="That is 50 kudos today.")
def give_kudos(post_id: int):
    return _kudos_button(post_id, services.give_kudos)


@bp.post("/p/<int:post_id>/kudos/take-back")
@keeps_form_on_csrf_failure
@login_required
def take_back_kudos(post_id: int):
    return _kudos_button(post_id, services.take_back_kudos)


@bp.post("/t/<int:thread_id>/solution")
@keeps_form_on_csrf_failure
@login_required
def accept_solution(thread_id: int):
    """Mark the reply named by post_id as the solution, or clear it when post_id is empty."""
    thread = _visible_thread(thread_id)
    if not permissions.can_accept_solution(current_user, thread):
        abort(403, "Only the member who asked, or a moderator, can choose the solution.")
    try:
        post_id = database_int(request.form["post_id"]) if request.form.get("post_id") else None
    except ValueError:
        abort(400, "That is not a reply in this thread.")
    post = db.session.get(Post, post_id) if post_id else None
    if not ButtonForm().validate_on_submit() or (post_id and post is None):
        flash("That form had expired; please try again.", "warning")
        return redirect(thread_url(thread))
    try:
        services.set_solution(current_user, thread, post)
    except InvalidInput as exc:
        flash(str(exc), "warning")
    except ForumError as exc:
        abort(403, str(exc))
    else:
        flash("Solution accepted." if post else "Solution cleared.", "success")
    return redirect(post_url(post) if post else thread_url(thread))
