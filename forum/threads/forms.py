"""Posting forms: each field checked by the posting service's own rule, shown beside the field."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField

from forum.forms import service_rule
from forum.threads.drafts import check_draft_body, check_draft_subject
from forum.threads.services import MAX_SUBJECT, check_body, check_subject

BODY_VALIDATORS = [service_rule(check_body)]
SUBJECT_VALIDATORS = [service_rule(check_subject)]
SUBJECT_HINTS = {"required": True, "maxlength": MAX_SUBJECT}  # the browser's own checks


class ThreadForm(FlaskForm):
    board = SelectField("Board", coerce=int, validate_choice=True)
    subject = StringField("Subject", validators=SUBJECT_VALIDATORS, render_kw=SUBJECT_HINTS)
    body = TextAreaField("Message", validators=BODY_VALIDATORS)
    preview = SubmitField("Preview")
    submit = SubmitField("Post")


class ReplyForm(FlaskForm):
    body = TextAreaField("Reply", validators=BODY_VALIDATORS)
    preview = SubmitField("Preview")
    submit = SubmitField("Post reply")


class EditForm(FlaskForm):
    """Editing a post; the view drops the subject unless the post opens its thread."""

    subject = StringField("Subject", validators=SUBJECT_VALIDATORS, render_kw=SUBJECT_HINTS)
    body = TextAreaField("Message", validators=BODY_VALIDATORS)
    preview = SubmitField("Preview")
    submit = SubmitField("Save changes")


class ReplyDraftForm(ReplyForm):
    """The reply form as a draft: anything up to a post's length, even nothing, is kept."""

    body = TextAreaField("Reply", validators=[service_rule(check_draft_body)])


class ThreadDraftForm(ThreadForm):
    """The new-thread form as a draft: subject and body only need to fit."""

    subject = StringField(
        "Subject", validators=[service_rule(check_draft_subject)], render_kw=SUBJECT_HINTS
    )
    body = TextAreaField("Message", validators=[service_rule(check_draft_body)])
