"""Moderator and admin views: thin wrappers over forum.moderation.services and reputation."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms import SelectChoice

from forum import lookups, permissions
from forum.auth import defences
from forum.errors import ForumError, InvalidInput
from forum.extensions import db
from forum.forms import ButtonForm
from forum.links import post_url, thread_url
from forum.models import (
    Badge,
    Board,
    HeldPost,
    Member,
    Post,
    Rank,
    Report,
    Role,
    SpammerRemoval,
    Thread,
)
from forum.moderation import services
from forum.moderation.forms import (
    BadgeForm,
    BoardForm,
    MergeForm,
    MoveForm,
    RankForm,
    ReasonForm,
    RejectForm,
    RemoveSpammerForm,
    ReportForm,
    SiteSettingsForm,
    member_tool_forms,
    move_form,
)
from forum.reputation import services as reputation
from forum.threads import holds
from forum.threads import services as thread_services
from forum.web import keeps_form_on_csrf_failure, page_arg

bp = Blueprint("moderation", __name__)


MEMBER_ENDPOINTS = frozenset({"moderation.report"})  # any member may report a post


@bp.before_request
@login_required
def require_moderator():
    """Every page here but the report form is for moderators; admin-only pages check again."""
    if request.endpoint in MEMBER_ENDPOINTS:
        return
    if not permissions.can_moderate(current_user):
        abort(403, "Only moderators can do that.")


@bp.app_context_processor
def moderator_tools() -> dict:
    """Moderation's forms for pages other areas render (a profile, a thread page), so those
    areas need not import them: the templates call these when the viewer moderates."""
    return {
        "member_tools": _member_tools,
        "thread_tools": _thread_tools,
        "can_remove_spammer": permissions.can_remove_spammer,
        "can_undo_spammer_removal": permissions.can_undo_spammer_removal,
        "spammer_undo_window": permissions.SPAMMER_UNDO_WINDOW,
        "queue_size": services.queue_size,  # queried only where the moderation menu is shown
    }


def _member_tools(member: Member) -> dict:
    return member_tool_forms(
        member, reputation.grantable_badges(member), reputation.ladder(db.session)
    )


def _thread_tools(thread: Thread) -> MoveForm:
    return move_form(thread, lookups.boards_in_order())


def _require_admin() -> None:
    if not current_user.is_admin:
        abort(403, "Only administrators can do that.")


def _edit_form(model, row_id: int | None, form_class):
    """The row an editing page is for (None: a new one) and its form, filled from it on GET."""
    row = db.get_or_404(model, row_id) if row_id else None
    return row, form_class(obj=row if request.method == "GET" else None)


def _listing(template: str, listing, endpoint: str, **context):
    """A moderation list, one page of it (past the last page: 404), with its page links."""
    if listing.page > max(listing.pages, 1):
        abort(404)
    return render_template(
        template,
        listing=listing,
        button_form=ButtonForm(),
        page_url=lambda p: url_for(f"moderation.{endpoint}", page=p if p > 1 else None),
        **context,
    )


def _expired() -> None:
    flash("That form had expired or was incomplete; nothing was changed.", "warning")


# posts and reports -------------------------------------------------------------------------------


@bp.route("/p/<int:post_id>/report", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def report(post_id: int):
    post = thread_services.visible_post(post_id, current_user) or abort(404)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            services.report_post(current_user, post, form.reason.data)
        except ForumError as exc:
            abort(403, str(exc))
        flash("Thanks: a moderator will look at this post.", "success")
        return redirect(post_url(post))
    status = 400 if form.errors else 200
    return render_template("moderation/report.html", post=post, form=form), status


def _set_removed(post_id: int, removed: bool):
    post = db.get_or_404(Post, post_id)
    if not ButtonForm().validate_on_submit():
        _expired()
        return redirect(post_url(post))
    thread_services.set_removed(current_user, post, removed)
    flash("Post removed." if removed else "Post restored.", "info")
    return redirect(post_url(post))


@bp.post("/moderation/posts/<int:post_id>/remove")
@keeps_form_on_csrf_failure
def remove_post(post_id: int):
    return _set_removed(post_id, True)


@bp.post("/moderation/posts/<int:post_id>/restore")
@keeps_form_on_csrf_failure
def restore_post(post_id: int):
    return _set_removed(post_id, False)


@bp.get("/moderation/reports")
def reports():
    return _listing("moderation/reports.html", services.open_reports(page_arg()), "reports")


@bp.post("/moderation/reports/<int:report_id>/<any(remove, dismiss):decision>")
@keeps_form_on_csrf_failure
def resolve_report(report_id: int, decision: str):
    report = db.get_or_404(Report, report_id)
    if ButtonForm().validate_on_submit():
        services.resolve_report(current_user, report, remove=decision == "remove")
        flash("Post removed." if decision == "remove" else "Report dismissed.", "info")
    else:
        _expired()
    return redirect(_back_to_list("moderation.reports"))


def _back_to_list(default: str) -> str:
    """Back to the queue when the decision was made there (the form says so), else default."""
    return url_for("moderation.queue" if request.form.get("from") == "queue" else default)


# the queue: held posts and reports ---------------------------------------------------------------


@bp.get("/moderation/queue")
def queue():
    listing = services.moderation_queue(page_arg())
    if listing.page > listing.pages:
        abort(404)
    return render_template(
        "moderation/queue.html",
        listing=listing,
        button_form=ButtonForm(),
        page_url=lambda p: url_for("moderation.queue", page=p if p > 1 else None),
    )


@bp.post("/moderation/held/<int:held_id>/approve")
@keeps_form_on_csrf_failure
def approve_held(held_id: int):
    held = db.get_or_404(HeldPost, held_id)
    if not ButtonForm().validate_on_submit():
        _expired()
    else:
        try:
            post = services.approve_held(current_user, held)
        except InvalidInput as exc:
            flash(str(exc), "warning")
        else:
            flash(
                Markup('Approved: <a href="{}">the post</a> is up.').format(post_url(post)),
                "success",
            )
    return redirect(url_for("moderation.queue"))


@bp.post("/moderation/held/<int:held_id>/reject")
@keeps_form_on_csrf_failure
def reject_held(held_id: int):
    held = db.get_or_404(HeldPost, held_id)
    form = RejectForm()
    if not form.validate_on_submit():
        flash("Please give a reason: the author sees it. Nothing was changed.", "warning")
    else:
        try:
            services.reject_held(current_user, held, form.reason.data)
        except InvalidInput as exc:
            flash(str(exc), "warning")
        else:
            flash(f"Rejected; {held.author.display_name} is told why.", "info")
    return redirect(url_for("moderation.queue"))


@bp.post("/moderation/held/<int:held_id>/reject-spam")
@keeps_form_on_csrf_failure
def reject_held_as_spam(held_id: int):
    """One click: reject with the reason "Rejected as spam", and the classifier learns it."""
    held = db.get_or_404(HeldPost, held_id)
    if not ButtonForm().validate_on_submit():
        _expired()
    else:
        try:
            services.reject_held(current_user, held, as_spam=True)
        except InvalidInput as exc:
            flash(str(exc), "warning")
        else:
            flash("Rejected as spam; the spam score learnt from it.", "info")
    return redirect(url_for("moderation.queue"))


@bp.route("/moderation/settings", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def site_settings():
    """The new-member limits, for admins."""
    _require_admin()
    form = SiteSettingsForm()
    if request.method == "GET":
        form.process(data=vars(holds.limits()))
    elif form.validate_on_submit():
        values = {name: form[name].data for name in holds.SETTINGS}
        try:
            services.save_site_settings(current_user, values)
        except InvalidInput as exc:
            form.form_errors.append(str(exc))
        else:
            flash("Settings saved.", "success")
            return redirect(url_for("moderation.site_settings"))
    status = 400 if form.errors else 200
    return render_template("moderation/settings.html", form=form), status


@bp.get("/moderation/audit")
def audit_log():
    listing = services.audit_entries(page_arg())
    removals = services.removals_by_entry([e.id for e in listing.items])
    return _listing("moderation/audit.html", listing, "audit_log", removals=removals)


@bp.get("/moderation/registrations")
def refused_registrations():
    """Registrations the defences refused (forum.auth.defences), newest first."""
    listing = defences.refused_registrations(page_arg())
    return _listing("moderation/registrations.html", listing, "refused_registrations")


# threads -----------------------------------------------------------------------------------------


THREAD_FLAG_DONE = {"lock": "locked", "unlock": "unlocked", "pin": "pinned", "unpin": "unpinned"}


@bp.post("/moderation/threads/<int:thread_id>/<any(lock, unlock, pin, unpin):action>")
@keeps_form_on_csrf_failure
def thread_flag(thread_id: int, action: str):
    thread = db.get_or_404(Thread, thread_id)
    if ButtonForm().validate_on_submit():
        flag = "is_pinned" if action.endswith("pin") else "is_locked"
        services.set_thread_flag(current_user, thread, flag, not action.startswith("un"))
        flash(f"Thread {THREAD_FLAG_DONE[action]}.", "info")
    else:
        _expired()
    return redirect(thread_url(thread))


@bp.post("/moderation/threads/<int:thread_id>/move")
@keeps_form_on_csrf_failure
def move_thread(thread_id: int):
    thread = db.get_or_404(Thread, thread_id)
    form = move_form(thread, lookups.boards_in_order())
    if form.validate_on_submit():
        services.move_thread(current_user, thread, db.session.get(Board, form.board.data))
        flash("Thread moved.", "info")
    else:
        _expired()
    return redirect(thread_url(thread))


@bp.route("/moderation/threads/<int:thread_id>/merge", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def merge_thread(thread_id: int):
    """GET asks which thread this duplicate goes into; POST merges and shows its first post there."""
    thread = db.get_or_404(Thread, thread_id)
    form = MergeForm()
    if form.validate_on_submit():
        try:
            target = services.thread_at(form.target.data)
            first = services.merge_thread(current_user, thread, target, form.reason.data)
        except InvalidInput as exc:
            form.target.errors.append(str(exc))
        else:
            flash(f"Thread merged into “{target.subject}”.", "success")
            return redirect(post_url(first))
    status = 400 if form.target.errors or form.reason.errors else 200
    return render_template("moderation/merge_thread.html", thread=thread, form=form), status


# members -----------------------------------------------------------------------------------------


def _member_action(handle: str, form_name: str, action):
    """Validate one of the profile's moderator forms and run its action, or show why not."""
    member = lookups.member_by_handle(handle) or abort(404)
    form = _member_tools(member)[form_name]
    if form.validate_on_submit():
        try:
            message = action(member, form)
        except ForumError as exc:
            flash(str(exc), "warning")
        else:
            flash(message, "success")
    else:
        flash(
            " ".join(e for errors in form.errors.values() for e in errors)
            or "Nothing was changed.",
            "warning",
        )
    return redirect(url_for("members.profile", handle=member.handle))


def _suspend(member: Member, form) -> str:
    services.suspend(current_user, member, form.days.data, form.reason.data)
    return f"{member.display_name} is suspended for {form.days.data} days."


def _unsuspend(member: Member, form) -> str:
    services.unsuspend(current_user, member, form.reason.data)
    return f"{member.display_name} may post again."


def _fix_rank(member: Member, form) -> str:
    reputation.set_fixed_rank(current_user, member, form.rank.data or None, form.reason.data)
    return "Rank updated."


def _grant_badge(member: Member, form) -> str:
    badge = db.session.get(Badge, form.badge.data)
    reputation.grant_badge(current_user, member, badge, form.reason.data)
    return f"Badge “{badge.name}” granted."


def _set_role(member: Member, form) -> str:
    _require_admin()
    services.set_role(current_user, member, Role(form.role.data), form.reason.data or "")
    return f"{member.display_name} is now {form.role.data}."


MEMBER_ACTIONS = {  # the URL's last word: (the profile form it submits, what it does)
    "suspend": ("suspend", _suspend),
    "unsuspend": ("unsuspend", _unsuspend),
    "rank": ("fixed", _fix_rank),
    "badges": ("grant", _grant_badge),
    "role": ("role", _set_role),
}


@bp.post("/moderation/members/<handle>/<any(suspend, unsuspend, rank, badges, role):action>")
@keeps_form_on_csrf_failure
def member_action(handle: str, action: str):
    form_name, act = MEMBER_ACTIONS[action]
    return _member_action(handle, form_name, act)


@bp.post("/moderation/members/<handle>/badges/<int:badge_id>/revoke")
@keeps_form_on_csrf_failure
def revoke_badge(handle: str, badge_id: int):
    badge = db.get_or_404(Badge, badge_id)

    def act(member, form):
        reputation.revoke_badge(current_user, member, badge, form.reason.data)
        return f"Badge “{badge.name}” revoked."

    return _member_action(handle, "revoke", act)


# removing spammers --------------------------------------------------------------------------------


@bp.route("/moderation/members/<handle>/remove-spammer", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def remove_spammer(handle: str):
    """GET says what the action will do; POST does it."""
    member = lookups.member_by_handle(handle) or abort(404)
    if not permissions.can_remove_spammer(current_user, member):
        abort(403, "Moderators, administrators and you yourself cannot be removed as spammers.")
    form = RemoveSpammerForm()
    if form.validate_on_submit():
        try:
            removal = services.remove_spammer(current_user, member, form.reason.data)
        except ForumError as exc:
            abort(403, str(exc))
        flash(
            f"{member.display_name} is removed as a spammer: {removal.post_count} posts hidden, "
            "suspended and logged out.",
            "success",
        )
        return redirect(url_for("moderation.spammer_removal", removal_id=removal.id))
    return render_template(
        "moderation/remove_spammer.html",
        member=member,
        form=form,
        footprint=services.spammer_footprint(member),
    ), 400 if form.errors else 200


@bp.get("/moderation/spammers")
def spammer_removals():
    return _listing(
        "moderation/spammer_removals.html",
        services.spammer_removals(page_arg()),
        "spammer_removals",
    )


@bp.get("/moderation/spammers/<int:removal_id>")
def spammer_removal(removal_id: int):
    removal = db.get_or_404(SpammerRemoval, removal_id)
    return render_template(
        "moderation/spammer_removal.html", removal=removal, button_form=ButtonForm()
    )


@bp.post("/moderation/spammers/<int:removal_id>/undo")
@keeps_form_on_csrf_failure
def undo_spammer_removal(removal_id: int):
    removal = db.get_or_404(SpammerRemoval, removal_id)
    if not ButtonForm().validate_on_submit():
        _expired()
    else:
        try:
            restored = services.undo_spammer_removal(current_user, removal)
        except ForumError as exc:
            flash(str(exc), "warning")
        else:
            flash(f"Undone: {restored} posts restored.", "success")
    return redirect(url_for("moderation.spammer_removal", removal_id=removal_id))


# the rank ladder ---------------------------------------------------------------------------------


def _thresholds(form) -> reputation.Thresholds:
    return reputation.Thresholds(
        form.min_posts.data or 0,
        form.min_kudos.data or 0,
        form.min_solutions.data or 0,
        form.min_days.data or 0,
    )


@bp.route("/moderation/ranks", methods=["GET", "POST"])
@bp.route("/moderation/ranks/<int:rank_id>", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def ranks(rank_id: int | None = None):
    rank, form = _edit_form(Rank, rank_id, RankForm)
    if form.validate_on_submit():
        try:
            reputation.save_rank(current_user, rank_id, form.name.data, _thresholds(form))
        except InvalidInput as exc:
            form.name.errors.append(str(exc))
        else:
            flash("The rank ladder is saved; every member's rank was recomputed.", "success")
            return redirect(url_for("moderation.ranks"))
    ladder = reputation.ladder(db.session)
    status = 400 if form.errors else 200
    return render_template(
        "moderation/ranks.html", ladder=ladder, form=form, rank=rank, button_form=ButtonForm()
    ), status


@bp.post("/moderation/ranks/<int:rank_id>/delete")
@keeps_form_on_csrf_failure
def delete_rank(rank_id: int):
    if ButtonForm().validate_on_submit():
        try:
            reputation.delete_rank(current_user, rank_id)
        except InvalidInput as exc:
            flash(str(exc), "warning")
    else:
        _expired()
    return redirect(url_for("moderation.ranks"))


# badges ------------------------------------------------------------------------------------------


def _badge_icons() -> list[tuple[str, str]]:
    folder = Path(current_app.static_folder) / "badges"
    return [SelectChoice("", "No icon")] + [
        SelectChoice(p.name, p.stem) for p in sorted(folder.glob("*.svg"))
    ]


@bp.get("/moderation/badges")
def badges():
    return _listing("moderation/badges.html", reputation.badges_listed(page_arg()), "badges")


@bp.route("/moderation/badges/new", methods=["GET", "POST"])
@bp.route("/moderation/badges/<int:badge_id>", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def badge(badge_id: int | None = None):
    badge, form = _edit_form(Badge, badge_id, BadgeForm)
    form.icon.choices = _badge_icons()
    would_receive = None
    if form.validate_on_submit():
        rule = _thresholds(form) if form.is_automatic.data else None
        if form.preview.data:
            would_receive = reputation.matching_members(rule) if rule else 0
        else:
            try:
                saved = reputation.save_badge(
                    current_user,
                    badge_id,
                    name=form.name.data,
                    description=form.description.data or "",
                    colour=form.colour.data,
                    icon=form.icon.data or "",
                    rule=rule,
                    reason=form.reason.data,
                )
            except InvalidInput as exc:
                form.name.errors.append(str(exc))
            else:
                flash(f"Badge “{saved.name}” saved.", "success")
                return redirect(url_for("moderation.badges"))
    status = 400 if form.errors else 200
    return render_template(
        "moderation/badge.html", form=form, badge=badge, would_receive=would_receive
    ), status


@bp.post("/moderation/badges/<int:badge_id>/<any(retire, unretire):action>")
@keeps_form_on_csrf_failure
def retire_badge(badge_id: int, action: str):
    badge = db.get_or_404(Badge, badge_id)
    form = ReasonForm()
    if form.validate_on_submit():
        reputation.set_badge_retired(current_user, badge, action == "retire", form.reason.data)
        flash(f"Badge “{badge.name}” {action}d.", "info")
    else:
        flash("Please give a reason.", "warning")
    return redirect(url_for("moderation.badges"))


# boards (admins) ---------------------------------------------------------------------------------


@bp.get("/moderation/boards")
def boards():
    _require_admin()
    return _listing("moderation/boards.html", lookups.boards_page(page_arg()), "boards")


@bp.route("/moderation/boards/new", methods=["GET", "POST"])
@bp.route("/moderation/boards/<int:board_id>", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
def board(board_id: int | None = None):
    _require_admin()
    board, form = _edit_form(Board, board_id, BoardForm)
    if form.validate_on_submit():
        try:
            services.save_board(
                current_user,
                board_id,
                name=form.name.data,
                description=form.description.data or "",
                slug=form.slug.data or "",
            )
        except InvalidInput as exc:
            form.name.errors.append(str(exc))
        else:
            flash("Board saved.", "success")
            return redirect(url_for("moderation.boards"))
    return render_template(
        "moderation/board.html", form=form, board=board
    ), 400 if form.errors else 200


@bp.post("/moderation/boards/<int:board_id>/move/<any(up, down):direction>")
@keeps_form_on_csrf_failure
def move_board(board_id: int, direction: str):
    _require_admin()
    if ButtonForm().validate_on_submit():
        try:
            services.move_board(current_user, board_id, up=direction == "up")
        except InvalidInput as exc:
            flash(str(exc), "warning")
    else:
        _expired()
    return redirect(url_for("moderation.boards"))
