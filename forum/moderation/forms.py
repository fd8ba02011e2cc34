"""Moderator and admin forms."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from forum.forms import service_rule
from forum.moderation.services import check_board_slug
from forum.threads import holds

REASON = [DataRequired(message="Please give a reason."), Length(max=500)]
COUNT = [Optional(), NumberRange(min=0, max=10_000_000)]


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=REASON)
    submit = SubmitField("Confirm")


class ReportForm(FlaskForm):
    reason = TextAreaField("What is wrong with this post?", validators=REASON)
    submit = SubmitField("Send report")


class MoveForm(FlaskForm):
    board = SelectField("Move to board", coerce=int, validate_choice=True)
    submit = SubmitField("Move")


class MergeForm(FlaskForm):
    target = StringField(
        "Thread to merge into (its address or number)",
        validators=[
            DataRequired(message="Paste the address or the number of the thread to merge into."),
            Length(max=500),
        ],
    )
    reason = StringField("Reason", validators=REASON)
    submit = SubmitField("Merge")


class SuspendForm(FlaskForm):
    days = IntegerField(
        "Days", validators=[DataRequired(), NumberRange(min=1, max=3650)], default=7
    )
    reason = StringField("Reason (the member sees it)", validators=REASON)
    submit = SubmitField("Suspend")


class RemoveSpammerForm(FlaskForm):
    reason = StringField(
        "Reason (the member sees it as their suspension's reason)", validators=REASON
    )
    submit = SubmitField("Remove spammer")


class FixedRankForm(FlaskForm):
    rank = SelectField("Fixed rank", coerce=int)
    reason = StringField("Reason", validators=REASON)
    submit = SubmitField("Set rank")


class GrantBadgeForm(FlaskForm):
    badge = SelectField("Badge", coerce=int, validate_choice=True)
    reason = StringField("Reason", validators=REASON)
    submit = SubmitField("Grant badge")


class RoleForm(FlaskForm):
    role = SelectField(
        "Role",
        choices=[
            SelectChoice("member", "Member"),
            SelectChoice("moderator", "Moderator"),
            SelectChoice("admin", "Administrator"),
        ],
    )
    reason = StringField("Reason", validators=[Length(max=500)])
    submit = SubmitField("Change role")


class ThresholdsMixin:
    min_posts = IntegerField("Posts", validators=COUNT, default=0)
    min_kudos = IntegerField("Kudos received", validators=COUNT, default=0)
    min_solutions = IntegerField("Accepted solutions", validators=COUNT, default=0)
    min_days = IntegerField("Days since joining", validators=COUNT, default=0)


class RankForm(ThresholdsMixin, FlaskForm):
    name = StringField("Rank name", validators=[DataRequired(), Length(max=60)])
    submit = SubmitField("Save rank")


class BadgeForm(ThresholdsMixin, FlaskForm):
    name = StringField("Badge name", validators=[DataRequired(), Length(max=60)])
    description = TextAreaField("Description", validators=[Length(max=500)])
    colour = StringField(
        "Colour",
        default="#3b6ea5",
        validators=[Regexp(r"^#[0-9a-fA-F]{6}$", message="A colour like #3b6ea5.")],
    )
    icon = SelectField("Icon", choices=[])
    is_automatic = BooleanField("Grant automatically to members who reach these thresholds")
    reason = StringField("Reason for this change", validators=REASON)
    preview = SubmitField("Preview who would receive it")
    submit = SubmitField("Save badge")


class BoardForm(FlaskForm):
    name = StringField("Board name", validators=[DataRequired(), Length(max=80)])
    slug = StringField("Address", validators=[service_rule(check_board_slug)])
    description = TextAreaField("Description", validators=[Length(max=500)])
    submit = SubmitField("Save board")


def move_form(thread, boards) -> MoveForm:
    """The thread page's "Move to board" form, on the thread's own board."""
    form = MoveForm()
    form.board.choices = [SelectChoice(b.id, b.name) for b in boards]
    if not form.is_submitted():
        form.board.data = thread.board_id
    return form


def member_tool_forms(member, grantable_badges, ranks) -> dict:
    """The moderator's forms on a profile, with their choices filled in."""
    grant = GrantBadgeForm(prefix="grant")
    grant.badge.choices = [SelectChoice(b.id, b.name) for b in grantable_badges]
    fixed = FixedRankForm(prefix="fixed")
    fixed.rank.choices = [SelectChoice(0, "Follow the ladder")] + [
        SelectChoice(r.id, r.name) for r in ranks
    ]
    role = RoleForm(prefix="role")
    if not fixed.is_submitted():  # show the current values, never overwrite what was posted
        fixed.rank.data = member.fixed_rank_id or 0
        role.role.data = str(member.role)
    return {
        "grant": grant,
        "fixed": fixed,
        "suspend": SuspendForm(prefix="suspend"),
        "unsuspend": ReasonForm(prefix="unsuspend"),
        "revoke": ReasonForm(prefix="revoke"),
        "role": role,
    }


class RejectForm(FlaskForm):
    """Turning a held post down: the reason goes to its author."""

    reason = StringField("Reason (the author sees it)", validators=REASON)
    submit = SubmitField("Reject")


def _limit_field(name: str) -> IntegerField:
    label, least, most = holds.RANGES[name]
    message = f"A whole number from {least:,} to {most:,}."
    return IntegerField(
        label,
        validators=[
            InputRequired(message=message),
            NumberRange(min=least, max=most, message=message),
        ],
    )


class SiteSettingsForm(FlaskForm):
    """The new-member limits (forum/threads/holds.py checks the same ranges)."""

    held_first_posts = _limit_field("held_first_posts")
    new_member_posts = _limit_field("new_member_posts")
    new_member_link_cap = _limit_field("new_member_link_cap")
    new_member_post_interval = _limit_field("new_member_post_interval")
    submit = SubmitField("Save settings")
