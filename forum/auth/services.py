"""Accounts and logins: handle and password rules, argon2id hashing, server-side sessions."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forum import mail
from forum.auth import defences
from forum.database import utcnow, write_transaction
from forum.errors import HandleTaken, InvalidInput
from forum.extensions import db
from forum.models import Member, MemberSession, Role
from forum.reputation.services import refresh_rank

HANDLE_RE = re.compile(r"[a-z0-9_-]{3,30}")
RESERVED_HANDLES = frozenset(
    [
        "admin",
        "administrator",
        "moderator",
        "moderators",
        "mod",
        "mods",
        "root",
        "system",
        "staff",
        "support",
        "help",
        "forum",
        "official",
        "team",
        "security",
        "anonymous",
        "guest",
        "null",
        "none",
        "undefined",
        "api",
        "static",
        "search",
        "login",
        "logout",
        "register",
        "members",
        "member",
        "settings",
        "new",
        "everyone",
        "here",
    ]
)
MIN_PASSWORD, MAX_PASSWORD = 10, 1024
MAX_DISPLAY_NAME = 60


@cache
def breached_passwords() -> frozenset[str]:
    """The shipped list of the 1,000 most common breached passwords."""
    text = resources.files("forum.data").joinpath("breached-passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def normalise_handle(handle: str) -> str:
    """Check a handle against the rules and return it lower-cased (handles ignore case)."""
    handle = handle.strip().lower()
    if not HANDLE_RE.fullmatch(handle):
        raise InvalidInput("Handles are 3–30 characters of a–z, 0–9, '-' and '_'.")
    if handle in RESERVED_HANDLES:
        raise InvalidInput("That handle is reserved; please choose another.")
    return handle


def normalise_display_name(name: str) -> str:
    """Whitespace collapsed; 1 to 60 characters (the name shown beside every post)."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise InvalidInput(f"Display names are 1 to {MAX_DISPLAY_NAME} characters.")
    return name


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"Passwords are {MIN_PASSWORD} to {MAX_PASSWORD:,} characters long.")
    if password in breached_passwords() or password.lower() in breached_passwords():
        raise InvalidInput(
            "That password is one of the most common leaked passwords; pick another."
        )


def password_hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return password_hasher().hash(password)


def normalise_email(address: str) -> str:
    """A deliverable-looking address, lower-cased (addresses are unique ignoring case)."""
    try:
        valid = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"That e-mail address is not valid: {exc}") from exc
    if len(valid.normalized) > 254:
        raise InvalidInput("E-mail addresses are at most 254 characters.")
    return valid.normalized.lower()


def _email_taken(session: Session, address: str, own_id: int | None) -> bool:
    owner = session.scalar(select(Member.id).where(Member.email == address))
    return owner is not None and owner != own_id


def has_administrator() -> bool:
    """Whether anyone can log in to run the site (a fresh install has no administrator)."""
    return (
        db.session.scalar(select(Member.id).where(Member.role == Role.ADMIN).limit(1)) is not None
    )


def register(
    handle: str,
    display_name: str,
    password: str,
    role: Role = Role.MEMBER,
    email: str | None = None,
    address_hash: str | None = None,
) -> Member:
    """Create a member; raises InvalidInput or HandleTaken with a message for the form.

    With an e-mail address, a confirmation link is mailed to it in the same unit of work. With
    the (hashed) address of a visitor registering themselves, the daily cap per address applies
    (RegistrationRefused); administrators creating accounts from the CLI pass none.
    """
    handle = normalise_handle(handle)
    check_password_rules(password)
    address = normalise_email(email) if email is not None else None
    display_name = normalise_display_name(display_name or handle)
    password_hash = hash_password(password)
    try:
        with write_transaction() as session:
            if session.scalar(select(Member.id).where(Member.handle == handle)):
                raise HandleTaken("That handle is taken.")
            if address and _email_taken(session, address, None):
                raise InvalidInput(EMAIL_TAKEN)
            if address_hash is not None:
                defences.claim_registration(session, address_hash)
            member = Member(
                handle=handle,
                display_name=display_name,
                password_hash=password_hash,
                role=role,
                email=address,
            )
            session.add(member)
            session.flush()
            refresh_rank(session, member.id, "joined")
            if address:
                _queue_confirmation(session, member, address)
    except IntegrityError as exc:  # a concurrent registration won a unique index
        raise HandleTaken("That handle or e-mail address is taken.") from exc
    return member


# Registration says so (the handle is public anyway); a password reset never does.
EMAIL_TAKEN = "That e-mail address belongs to another account."


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _read_link(salt: str, token: str, max_age: int, what: str) -> tuple[int, str]:
    """The (member id, value) a signed link carries, or InvalidInput saying what is wrong."""
    try:
        member_id, value = _serializer(salt).loads(token, max_age=max_age)
        return int(member_id), str(value)
    except SignatureExpired as exc:
        raise InvalidInput(f"That {what} link has expired; ask for a new one.") from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise InvalidInput(f"That {what} link is not valid.") from exc


def _mail_link(
    session: Session, member: Member, address: str, template: str, subject: str, **context
):
    mail.queue(
        session,
        to=address,
        composed=mail.compose(
            template, subject=subject, member_name=member.display_name, **context
        ),
        purpose="account",
        member_id=member.id,
    )


def _queue_confirmation(session: Session, member: Member, address: str) -> None:
    from forum.links import site_url

    token = _serializer("forum.confirm-email").dumps([member.id, address])
    _mail_link(
        session,
        member,
        address,
        "confirm_email",
        "Confirm your e-mail address",
        link=site_url("auth.confirm_email", token=token),
        days=current_app.config["CONFIRM_LINK_MAX_AGE"] // 86400,
    )


def confirm_email(token: str) -> Member:
    """Follow a confirmation link: the address it names becomes the member's, confirmed."""
    max_age = current_app.config["CONFIRM_LINK_MAX_AGE"]
    member_id, address = _read_link("forum.confirm-email", token, max_age, "confirmation")
    try:
        with write_transaction() as session:
            member = session.get(Member, member_id)
            if member is None:
                raise InvalidInput("That confirmation link is not valid.")
            if _email_taken(session, address, member.id):
                raise InvalidInput(EMAIL_TAKEN)
            if member.email != address or member.email_confirmed_at is None:
                member.email, member.email_confirmed_at = address, utcnow()
    except IntegrityError as exc:
        raise InvalidInput(EMAIL_TAKEN) from exc
    return member


def request_email_change(member: Member, address: str, password: str) -> str:
    """Mail a confirmation link to a new address (or again to the unconfirmed one).

    The address changes only when the link is followed, so a typo never locks a member out.
    """
    if authenticate(member.handle, password) is None:
        raise InvalidInput("Your password is not right.")
    address = normalise_email(address)
    member_id = member.id
    with write_transaction() as session:
        member = session.get(Member, member_id)
        if _email_taken(session, address, member_id):
            raise InvalidInput(EMAIL_TAKEN)
        if member.email == address and member.email_confirmed_at is not None:
            raise InvalidInput("That is already your confirmed address.")
        if member.email is None or member.email_confirmed_at is None:
            member.email = address  # nothing confirmed to keep: the newest wish stands
        _queue_confirmation(session, member, address)
    return address


def _password_fingerprint(member: Member) -> str:
    """Changes with every new password (argon2 salts each hash), so a used link stops working."""
    return hashlib.sha256((member.password_hash or "").encode()).hexdigest()[:20]


def request_password_reset(address: str) -> None:
    """Mail a reset link if the address is a member's; says nothing either way (no enumeration)."""
    from forum.links import site_url

    try:
        address = normalise_email(address)
    except InvalidInput:
        return
    with write_transaction() as session:
        member = session.scalar(select(Member).where(Member.email == address))
        if member is None or member.password_hash is None:
            return
        token = _serializer("forum.reset-password").dumps(
            [member.id, _password_fingerprint(member)]
        )
        _mail_link(
            session,
            member,
            address,
            "reset_password",
            "Reset your password",
            handle=member.handle,
            link=site_url("auth.reset_password", token=token),
            minutes=current_app.config["RESET_LINK_MAX_AGE"] // 60,
        )


def member_for_reset(token: str) -> Member:
    """The member a reset link is for, while it is valid, unused and under an hour old."""
    max_age = current_app.config["RESET_LINK_MAX_AGE"]
    member_id, fingerprint = _read_link("forum.reset-password", token, max_age, "reset")
    member = db.session.get(Member, member_id)
    if member is None or _password_fingerprint(member) != fingerprint:
        raise InvalidInput("That reset link has already been used; ask for a new one.")
    return member


def reset_password(token: str, new_password: str) -> Member:
    """Set a new password from a reset link and end every login of the member."""
    member = member_for_reset(token)
    check_password_rules(new_password)
    password_hash = hash_password(new_password)
    member_id, fingerprint = member.id, _password_fingerprint(member)
    with write_transaction() as session:
        member = session.get(Member, member_id, populate_existing=True)
        if _password_fingerprint(member) != fingerprint:  # two tabs raced with one link
            raise InvalidInput("That reset link has already been used; ask for a new one.")
        member.password_hash = password_hash
        if member.email_confirmed_at is None:
            member.email_confirmed_at = utcnow()  # the link reached this address
        session.execute(delete(MemberSession).where(MemberSession.member_id == member_id))
    return member


def authenticate(handle: str, password: str) -> Member | None:
    """The member if the password matches; a dummy verify keeps timing alike for unknown handles."""
    member = db.session.scalar(select(Member).where(Member.handle == handle.strip().lower()))
    hasher = password_hasher()
    if member is None or member.password_hash is None:
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(), password)
        return None
    try:
        hasher.verify(member.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return member


@cache
def _dummy_hash() -> str:
    return password_hasher().hash(secrets.token_hex(8))


def start_session(member: Member, user_agent: str = "") -> str:
    """Record a login and return its token (what Flask-Login keeps in the cookies)."""
    token = secrets.token_urlsafe(32)
    with write_transaction() as session:
        session.add(MemberSession(token=token, member_id=member.id, user_agent=user_agent[:255]))
    member.session_token = token
    return token


def end_session(token: str) -> None:
    with write_transaction() as session:
        session.execute(delete(MemberSession).where(MemberSession.token == token))


def change_password(member: Member, current: str, new: str) -> str:
    """Set a new password, end every login of the member, and return a fresh token for this one."""
    if authenticate(member.handle, current) is None:
        raise InvalidInput("Your current password is not right.")
    check_password_rules(new)
    password_hash = hash_password(new)
    token = secrets.token_urlsafe(32)
    member_id = member.id
    with write_transaction() as session:
        member = session.get(Member, member_id)
        member.password_hash = password_hash
        session.execute(delete(MemberSession).where(MemberSession.member_id == member_id))
        session.add(MemberSession(token=token, member_id=member_id))
    member.session_token = token
    return token
