"""Forms for registering, logging in and changing the password."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length

from forum.auth import services
from forum.forms import service_rule

EMAIL_VALIDATORS = [
    DataRequired("Enter your e-mail address."),
    service_rule(services.normalise_email),
]


class RegisterForm(FlaskForm):
    handle = StringField(
        "Handle", validators=[DataRequired(), service_rule(services.normalise_handle)]
    )
    display_name = StringField(
        "Display name", validators=[DataRequired(), service_rule(services.normalise_display_name)]
    )
    email = EmailField("E-mail address", validators=EMAIL_VALIDATORS)
    password = PasswordField("Password", validators=[service_rule(services.check_password_rules)])
    # Defences (forum.auth.defences): a field only bots fill in, and when the form was shown.
    website = StringField("Leave this empty: it is a trap for spam robots")
    stamp = HiddenField()
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    handle = StringField("Handle", validators=[DataRequired(), Length(max=30)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Remember me")
    next = HiddenField()
    submit = SubmitField("Log in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password", validators=[service_rule(services.check_password_rules)]
    )
    submit = SubmitField("Change password")


class EmailForm(FlaskForm):
    email = EmailField("New e-mail address", validators=EMAIL_VALIDATORS)
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField("Send confirmation link")


class ResetRequestForm(FlaskForm):
    email = EmailField("Your e-mail address", validators=[DataRequired(), Length(max=254)])
    submit = SubmitField("Send reset link")


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(
        "New password", validators=[service_rule(services.check_password_rules)]
    )
    submit = SubmitField("Set new password")


class LogoutForm(FlaskForm):
    submit = SubmitField("Log out")
