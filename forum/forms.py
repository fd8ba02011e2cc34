"""Forms every area uses: the one-button form, and the bridge from a service's rule to a field."""

from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

from forum.errors import InvalidInput


def service_rule(check):
    """A service's input rule (raises InvalidInput) as a WTForms validator with the same message,
    so each rule and its wording live once, in the service."""

    def validator(_form, field):
        try:
            check(field.data or "")
        except InvalidInput as exc:
            raise ValidationError(str(exc)) from exc

    return validator


class ButtonForm(FlaskForm):
    """A bare form for one-button actions (kudos, remove, restore, watch): it carries the CSRF token."""
