"""Profile pages and a member's own settings."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from forum import permissions
from forum.errors import ForumError
from forum.extensions import db
from forum.members import bp, services
from forum.members.forms import SettingsForm
from forum.models import Badge, Member, MemberBadge, Rank
from forum.moderation.forms import member_tool_forms
from forum.notifications import services as notifications
from forum.threads.forms import ButtonForm
from forum.web import keeps_form_on_csrf_failure


def _member_or_404(handle: str) -> Member:
    return db.first_or_404(select(Member).where(Member.handle == handle.lower()))


@bp.get("/<handle>")
def profile(handle: str):
    member = _member_or_404(handle)
    tools = member_tool_forms(member) if permissions.can_moderate(current_user) else None
    other = current_user.is_authenticated and current_user.id != member.id
    return render_template(
        "members/profile.html",
        profile=services.profile(member),
        member=member,
        tools=tools,
        mute_form=ButtonForm() if other else None,
        muted=other and notifications.has_muted(current_user, member),
    )


@bp.route("/settings", methods=["GET", "POST"], endpoint="settings")
@keeps_form_on_csrf_failure
@login_required
def settings():
    member = current_user
    form = SettingsForm()
    held = db.session.scalars(
        select(Badge)
        .join(MemberBadge)
        .where(MemberBadge.member_id == member.id)
        .order_by(Badge.name)
    ).all()
    form.featured_badge.choices = [SelectChoice(0, "My rank")] + [
        SelectChoice(b.id, b.name) for b in held
    ]
    if not form.is_submitted():
        form.display_name.data = member.display_name
        form.signature.data = member.signature_source
        form.featured_badge.data = member.featured_badge_id or 0
    if form.validate_on_submit():
        try:
            services.update_settings(
                member,
                form.display_name.data,
                form.signature.data or "",
                form.featured_badge.data or None,
            )
        except ForumError as exc:
            form.signature.errors.append(str(exc))
        else:
            flash("Your settings are saved.", "success")
            return redirect(url_for("members.profile", handle=member.handle))
    ranks = db.session.scalars(select(Rank).order_by(Rank.position)).all()
    return render_template(
        "members/settings.html", form=form, ranks=ranks
    ), 400 if form.errors else 200
