"""What the spam classifier has learned from moderators' decisions: per-token message counts."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.extensions import db


class SpamToken(db.Model):
    """How many decided spam and not-spam messages held this token (each message counts once).

    One reserved row (forum.spam.TOTALS, a name no tokeniser output can take) counts the messages
    themselves, so scoring reads the totals in the same SELECT as the tokens.
    """

    __tablename__ = "spam_tokens"
    __table_args__ = (
        CheckConstraint("spam_count >= 0 AND ham_count >= 0", name="counts_not_negative"),
    )

    token: Mapped[str] = mapped_column(String(100), primary_key=True)
    spam_count: Mapped[int] = mapped_column(default=0)
    ham_count: Mapped[int] = mapped_column(default=0)
