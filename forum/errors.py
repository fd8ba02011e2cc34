"""Domain exceptions raised by the services and mapped to HTTP by the views."""


class ForumError(Exception):
    """Base of the forum's rule violations; the message is shown to the member."""


class NotAllowed(ForumError):
    """The member may not do this (403)."""


class ThreadLocked(NotAllowed):
    """Replies to a locked thread are refused."""


class EditWindowClosed(NotAllowed):
    """The author's edit window has passed."""


class InvalidInput(ForumError):
    """Input that passed the form but breaks a forum rule (400 with the message shown)."""


class HandleTaken(InvalidInput):
    """Another member already has this handle."""


class RegistrationRefused(ForumError):
    """A registration defence fired; the visitor sees one message whichever it was."""

    def __init__(self, reason) -> None:
        super().__init__(
            "We could not create your account just now. Please wait a moment and try again, "
            "or contact the moderators if this keeps happening."
        )
        self.reason = reason  # a forum.models.Refusal, for the moderators' log only
