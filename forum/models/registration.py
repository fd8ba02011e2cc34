"""What the registration defences remember: recent registrations per address, and refusals."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from forum.database import UTCDateTime, utcnow
from forum.extensions import db


class Refusal(enum.StrEnum):
    """Which defence refused a registration (moderators see it; the visitor never does)."""

    HONEYPOT = "honeypot"  # the field people cannot see was filled in
    TOO_FAST = "too-fast"  # sent sooner after the form was shown than a person types
    STAMP = "stamp"  # the form's signed timestamp was missing, forged or over a day old
    ADDRESS_CAP = "address-cap"  # the address already registered its daily quota


class Registration(db.Model):
    """One successful registration from an address, kept a day to count against the cap.

    The address is an HMAC of the IP keyed with the secret key: countable, never readable.
    """

    __tablename__ = "registrations"
    __table_args__ = (
        Index("ix_registrations_address_hash_created_at", "address_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RefusedRegistration(db.Model):
    """A registration a defence refused, kept 30 days for moderators to read."""

    __tablename__ = "refused_registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[Refusal] = mapped_column(
        Enum(Refusal, native_enum=False, length=16, values_callable=lambda e: [r.value for r in e])
    )
    handle: Mapped[str] = mapped_column(String(60), default="")
    email_domain: Mapped[str] = mapped_column(String(254), default="")
    address_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
