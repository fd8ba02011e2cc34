"""A member's own settings: each field checked by the service's own rule."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional

from forum.auth.services import MAX_DISPLAY_NAME, normalise_display_name
from forum.forms import service_rule
from forum.members.services import SIGNATURE_LENGTH, check_signature, check_time_zone


class SettingsForm(FlaskForm):
    display_name = StringField(
        "Display name",
        validators=[service_rule(normalise_display_name)],
        render_kw={"required": True, "maxlength": MAX_DISPLAY_NAME},
    )
    signature = TextAreaField(
        "Signature",
        validators=[service_rule(check_signature)],
        render_kw={"maxlength": SIGNATURE_LENGTH},
    )
    featured_badge = SelectField("Show beside my posts", coerce=int)
    # The service's rule, not WTForms' "Not a valid choice": it names the problem, and it takes
    # valid names the list leaves out ("US/Eastern"). A form without the field keeps the zone.
    time_zone = SelectField(
        "Time zone", validators=[Optional(), service_rule(check_time_zone)], validate_choice=False
    )
    submit = SubmitField("Save settings")
