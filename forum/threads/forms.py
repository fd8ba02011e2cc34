"""Posting forms. Limits here mirror the services' rules so errors show beside the field."""

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError


def _body_limit(_form, field):
    limit = current_app.config["MAX_POST_LENGTH"]
    if field.data and len(field.data) > limit:
        raise ValidationError(
            f"Posts are at most {limit:,} characters ({len(field.data):,} given)."
        )


def _not_blank(_form, field):
    if not (field.data or "").strip():
        raise ValidationError("A post needs some text.")


BODY_VALIDATORS = [_not_blank, _body_limit]
SUBJECT_VALIDATORS = [DataRequired("A thread needs a subject."), Length(max=200)]


class ThreadForm(FlaskForm):
    board = SelectField("Board", coerce=int, validate_choice=True)
    subject = StringField("Subject", validators=SUBJECT_VALIDATORS)
    body = TextAreaField("Message", validators=BODY_VALIDATORS)
    preview = SubmitField("Preview")
    submit = SubmitField("Post")


class ReplyForm(FlaskForm):
    body = TextAreaField("Reply", validators=BODY_VALIDATORS)
    preview = SubmitField("Preview")
    submit = SubmitField("Post reply")


class EditForm(FlaskForm):
    """Editing a post; the view drops the subject unless the post opens its thread."""

    subject = StringField("Subject", validators=SUBJECT_VALIDATORS)
    body = TextAreaField("Message", validators=BODY_VALIDATORS)
    preview = SubmitField("Preview")
    submit = SubmitField("Save changes")


class ButtonForm(FlaskForm):
    """A bare form for one-button actions (kudos, remove, restore): it carries the CSRF token."""
