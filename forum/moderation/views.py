"""Remove and restore posts."""

from flask import abort, flash, redirect
from flask_login import current_user, login_required

from forum import permissions
from forum.errors import ForumError
from forum.extensions import db
from forum.models import Post
from forum.moderation import bp
from forum.threads import services
from forum.threads.forms import ButtonForm
from forum.threads.links import post_url


def _set_removed(post_id: int, removed: bool):
    if not permissions.can_moderate(current_user):
        abort(403, "Only moderators can do that.")
    post = db.get_or_404(Post, post_id)
    if not ButtonForm().validate_on_submit():
        flash("That form had expired; please try again.", "warning")
        return redirect(post_url(post))
    try:
        services.set_removed(current_user, post, removed)
    except ForumError as exc:
        abort(403, str(exc))
    flash("Post removed." if removed else "Post restored.", "info")
    return redirect(post_url(post))


@bp.post("/posts/<int:post_id>/remove")
@login_required
def remove_post(post_id: int):
    return _set_removed(post_id, True)


@bp.post("/posts/<int:post_id>/restore")
@login_required
def restore_post(post_id: int):
    return _set_removed(post_id, False)
