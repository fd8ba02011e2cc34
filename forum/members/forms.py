"""A member's own settings."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from forum.markup import count_links
from forum.members.services import SIGNATURE_LENGTH, SIGNATURE_LINKS


def _signature_rules(_form, field):
    if field.data and count_links(field.data) > SIGNATURE_LINKS:
        raise ValidationError(f"Signatures may contain at most {SIGNATURE_LINKS} links.")


class SettingsForm(FlaskForm):
    display_name = StringField("Display name", validators=[DataRequired(), Length(max=60)])
    signature = TextAreaField(
        "Signature",
        validators=[
            Length(
                max=SIGNATURE_LENGTH,
                message=f"Signatures are at most {SIGNATURE_LENGTH} characters.",
            ),
            _signature_rules,
        ],
    )
    featured_badge = SelectField("Show beside my posts", coerce=int)
    submit = SubmitField("Save settings")
