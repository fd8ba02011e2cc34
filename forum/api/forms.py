"""The settings form that creates a personal API token."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from forum.api.tokens import MAX_NAME


class TokenForm(FlaskForm):
    name = StringField(
        "Name", validators=[InputRequired(), Length(max=MAX_NAME)], description="What uses it"
    )
    write = BooleanField("Write: post, reply, edit, kudos, solutions, watching (not only read)")
    submit = SubmitField("Create token")
