"""Notification settings: watching threads one posts in, and e-mail per kind."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, SubmitField

from forum.models import Frequency, Kind
from forum.notifications.services import KIND_LABELS

FREQUENCY_CHOICES = [
    SelectChoice(Frequency.IMMEDIATELY.value, "E-mail at once"),
    SelectChoice(Frequency.DAILY.value, "Daily digest"),
    SelectChoice(Frequency.NEVER.value, "Only here"),
]


class NotificationSettingsForm(FlaskForm):
    auto_watch = BooleanField("Watch threads I start or reply to")
    submit = SubmitField("Save notification settings")

    def kind_fields(self):
        return [(kind, self[f"email_{kind.value}"]) for kind in Kind]

    def choices(self) -> dict[Kind, Frequency]:
        return {kind: Frequency(field.data) for kind, field in self.kind_fields()}


for _kind in Kind:  # one radio group per kind, in the order of Kind
    setattr(
        NotificationSettingsForm,
        f"email_{_kind.value}",
        RadioField(KIND_LABELS[_kind], choices=FREQUENCY_CHOICES),
    )
