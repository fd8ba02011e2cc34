"""Profile pages and a member's own settings."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from wtforms import SelectChoice

from forum import lookups, permissions, timezones
from forum.errors import ForumError
from forum.extensions import db, limiter
from forum.forms import ButtonForm
from forum.members import services
from forum.members.forms import SettingsForm
from forum.notifications import services as notifications
from forum.reputation import services as reputation
from forum.web import keeps_form_on_csrf_failure

bp = Blueprint("members", __name__, url_prefix="/members")


@bp.get("/<handle>")
def profile(handle: str):
    member = lookups.member_by_handle(handle) or abort(404)
    other = current_user.is_authenticated and current_user.id != member.id
    return render_template(
        "members/profile.html",
        profile=services.profile(member),
        member=member,
        can_moderate=permissions.can_moderate(current_user),
        mute_form=ButtonForm() if other else None,
        muted=other and notifications.has_muted(current_user, member),
    )


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
@keeps_form_on_csrf_failure
@login_required
@limiter.limit(
    "20/hour",
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 302,
    error_message="That is 20 saves of your settings this hour.",
)
def settings():
    member = current_user
    form = SettingsForm()
    form.featured_badge.choices = [SelectChoice(0, "My rank")] + [
        SelectChoice(b.id, b.name) for b in reputation.badges_held(member)
    ]
    if not form.is_submitted():
        form.display_name.data = member.display_name
        form.signature.data = member.signature_source
        form.featured_badge.data = member.featured_badge_id or 0
        form.time_zone.data = member.time_zone or timezones.browser_zone() or "UTC"
    form.time_zone.choices = timezones.zone_choices(form.time_zone.data)
    if form.validate_on_submit():
        try:
            services.update_settings(
                member,
                display_name=form.display_name.data,
                signature=form.signature.data or "",
                featured_badge_id=form.featured_badge.data or None,
                time_zone=form.time_zone.data or member.time_zone,
            )
        except ForumError as exc:
            form.featured_badge.errors.append(str(exc))
        else:
            flash("Your settings are saved.", "success")
            return redirect(url_for("members.profile", handle=member.handle))
    ranks = reputation.ladder(db.session)
    return render_template(
        "members/settings.html", form=form, ranks=ranks
    ), 400 if form.errors else 200
