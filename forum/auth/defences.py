"""Registration defences that need no JavaScript: a honeypot field, a minimum time to fill the
form (a signed timestamp rendered with it) and a daily cap of registrations per address."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from forum.database import page_of_rows, utcnow, write_transaction
from forum.errors import RegistrationRefused
from forum.models import Refusal, RefusedRegistration, Registration

STAMP_SALT = "forum.register-form"
STAMP_MAX_AGE = 86400  # a form left open longer than a day is shown again with a fresh stamp
COUNTED_FOR = timedelta(days=1)
REFUSALS_KEPT_FOR = timedelta(days=30)


def _stamps() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=STAMP_SALT)


def form_stamp(issued_at: float | None = None) -> str:
    """The signed time the register form was shown (now, unless a test says otherwise)."""
    return _stamps().dumps(round(time.time() if issued_at is None else issued_at, 3))


def _stamp_age(stamp: str | None) -> float | None:
    """Seconds since a stamp was signed; None when it is missing, forged or over a day old."""
    try:
        age = time.time() - float(_stamps().loads(stamp or ""))
    except (BadSignature, TypeError, ValueError):
        return None
    return None if age > STAMP_MAX_AGE else age


def check_form(honeypot: str | None, stamp: str | None) -> None:
    """Refuse a filled honeypot, or a form sent too soon after it was shown.

    With REGISTRATION_MIN_SECONDS at 0 the time check is off, the stamp's too: it exists only
    to time the form (and the tests' clients post the form without first reading it).
    """
    if honeypot:
        raise RegistrationRefused(Refusal.HONEYPOT)
    min_seconds = current_app.config["REGISTRATION_MIN_SECONDS"]
    if not min_seconds:
        return
    age = _stamp_age(stamp)
    if age is None:
        raise RegistrationRefused(Refusal.STAMP)
    if age < min_seconds:
        raise RegistrationRefused(Refusal.TOO_FAST)


def stamp_for_form_shown_again(stamp: str | None) -> str:
    """The stamp a re-shown form carries: the one it came with while valid, so a person fixing a
    typo in a second is not refused as too fast, else a fresh one."""
    return stamp if _stamp_age(stamp) is not None else form_stamp()


def address_hash(remote_addr: str | None) -> str:
    """An IP address as an HMAC keyed with the secret key: countable, but the IP is not readable."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, (remote_addr or "").encode(), hashlib.sha256).hexdigest()


def claim_registration(session: Session, address: str) -> None:
    """Count a registration from an address inside the registering unit of work, or refuse it
    when the address already registered REGISTRATIONS_PER_IP_PER_DAY times in 24 hours."""
    cap = current_app.config["REGISTRATIONS_PER_IP_PER_DAY"]
    if not cap:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Two registrations from one address at once must not both see room for one more
        # (SQLite's BEGIN IMMEDIATE already runs writers one at a time).
        lock = int(address[:15], 16)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
    since = utcnow() - COUNTED_FOR
    session.execute(delete(Registration).where(Registration.created_at < since))
    recent = session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(Registration.address_hash == address, Registration.created_at >= since)
    )
    if recent >= cap:
        raise RegistrationRefused(Refusal.ADDRESS_CAP)
    session.add(Registration(address_hash=address))


def log_refusal(reason: Refusal, handle: str | None, email: str | None, address: str) -> None:
    """Record a refused registration for moderators: the e-mail's domain only, no IP."""
    domain = (email or "").rpartition("@")[2].strip().lower()
    with write_transaction() as session:
        cutoff = utcnow() - REFUSALS_KEPT_FOR
        session.execute(delete(RefusedRegistration).where(RefusedRegistration.created_at < cutoff))
        session.add(
            RefusedRegistration(
                reason=reason,
                handle=(handle or "").strip()[:60],
                email_domain=domain[:254],
                address_hash=address,
            )
        )


def refused_registrations(page: int):
    """The refusals of the last 30 days, newest first, a page at a time."""
    return page_of_rows(
        select(RefusedRegistration)
        .where(RefusedRegistration.created_at >= utcnow() - REFUSALS_KEPT_FOR)
        .order_by(RefusedRegistration.created_at.desc(), RefusedRegistration.id.desc()),
        page,
    )
