"""Notification views: the list, opening and marking read, watching, settings, unsubscribe."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum import lookups
from forum.extensions import csrf, db
from forum.forms import ButtonForm
from forum.links import post_url, thread_url
from forum.models import Post, Thread, WatchLevel
from forum.notifications import services
from forum.notifications.forms import NotificationSettingsForm
from forum.web import keeps_form_on_csrf_failure, page_arg

bp = Blueprint("notifications", __name__)
LEVELS = {"watch": WatchLevel.WATCHING, "mute": WatchLevel.MUTED, "normal": None}


def _expired() -> None:
    flash("That form had expired; please try again.", "warning")


@bp.get("/notifications")
@login_required
def index():
    page = page_arg()
    lines, more = services.notification_lines(current_user, page)
    return render_template(
        "notifications/index.html", lines=lines, page=page, more=more, form=ButtonForm()
    )


@bp.get("/notifications/<int:notification_id>")
@login_required
def open(notification_id: int):
    """Mark it read and go where it points: the post, on the page that holds it."""
    notification = services.mark_read(current_user, notification_id)
    if notification is None:
        abort(404)
    if notification.post_id is not None:
        post = db.session.get(Post, notification.post_id)
        if post is not None and not post.is_removed and not post.thread.is_hidden:
            return redirect(post_url(post))
    if notification.thread_id is not None:
        thread = db.session.get(Thread, notification.thread_id)
        if thread is not None and not thread.is_hidden:
            return redirect(thread_url(thread))
    return redirect(url_for("members.profile", handle=current_user.handle))


def _list_button(act):
    """A button on the notification list: act if its form holds, then show the list again."""
    if ButtonForm().validate_on_submit():
        act()
    else:
        _expired()
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    def act():
        if services.mark_read(current_user, notification_id) is None:
            flash("That notification is not yours.", "warning")

    return _list_button(act)


@bp.post("/notifications/read-all")
@login_required
def mark_all_read():
    def act():
        services.mark_all_read(current_user)
        flash("All notifications marked read.", "success")

    return _list_button(act)


@bp.post("/t/<int:thread_id>/watch/<level>")
@login_required
def watch_thread(thread_id: int, level: str):
    thread = db.get_or_404(Thread, thread_id)
    if level not in LEVELS or (thread.is_hidden and not current_user.is_moderator):
        abort(404)
    if ButtonForm().validate_on_submit():
        services.set_thread_level(current_user, thread, LEVELS[level])
        flash(
            {
                "watch": "You are watching this thread: you will hear of every reply.",
                "mute": "Thread muted: you will hear nothing from it.",
                "normal": "You no longer watch this thread.",
            }[level],
            "success",
        )
    else:
        _expired()
    return redirect(thread_url(thread))


@bp.post("/b/<slug>/watch/<level>")
@login_required
def watch_board(slug: str, level: str):
    board = lookups.board_by_slug(slug) or abort(404)
    if level not in ("watch", "normal"):
        abort(404)
    if ButtonForm().validate_on_submit():
        services.set_board_level(current_user, board, level == "watch")
        flash(
            "You are watching this board: you will hear of every new thread."
            if level == "watch"
            else "You no longer watch this board.",
            "success",
        )
    else:
        _expired()
    return redirect(url_for("threads.board", slug=board.slug))


@bp.post("/members/<handle>/mute/<action>")
@login_required
def mute_member(handle: str, action: str):
    other = lookups.member_by_handle(handle) or abort(404)
    if action not in ("mute", "unmute") or other.id == current_user.id:
        abort(404)
    if ButtonForm().validate_on_submit():
        services.set_member_muted(current_user, other, action == "mute")
        flash(
            f"You will get no notifications caused by {other.display_name}."
            if action == "mute"
            else f"You will hear from {other.display_name} again.",
            "success",
        )
    else:
        _expired()
    return redirect(url_for("members.profile", handle=other.handle))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@keeps_form_on_csrf_failure
@login_required
def settings():
    form = NotificationSettingsForm()
    if not form.is_submitted():
        form.auto_watch.data = current_user.auto_watch
        for kind, frequency in services.frequencies(current_user.id).items():
            form[f"email_{kind.value}"].data = frequency.value
    if form.validate_on_submit():
        services.save_preferences(current_user, form.auto_watch.data, form.choices())
        flash("Your notification settings are saved.", "success")
        return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form), 400 if form.errors else 200


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: a mail client POSTs here with no session; the signed token is the proof
def unsubscribe(token: str):
    """One-click unsubscribe from the link in an e-mail: no login, no CSRF token."""
    signed = services.read_unsubscribe_token(token)
    if signed is None:
        abort(404)
    member_id, kind = signed
    label = (
        "daily digest"
        if kind == services.DIGEST
        else services.KIND_LABELS[services.Kind(kind)].lower()
    )
    if request.method == "POST":
        services.unsubscribe(member_id, kind)
        return render_template("notifications/unsubscribed.html", label=label)
    return render_template("notifications/unsubscribe.html", label=label, token=token)
