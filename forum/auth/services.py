"""Accounts and logins: handle and password rules, argon2id hashing, server-side sessions."""

from __future__ import annotations

import contextlib
import re
import secrets
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from forum.database import write_transaction
from forum.errors import HandleTaken, InvalidInput
from forum.extensions import db
from forum.models import Member, MemberSession, Role

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


def register(handle: str, display_name: str, password: str, role: Role = Role.MEMBER) -> Member:
    """Create a member; raises InvalidInput or HandleTaken with a message for the form."""
    handle = normalise_handle(handle)
    check_password_rules(password)
    display_name = " ".join(display_name.split()) or handle
    if len(display_name) > 60:
        raise InvalidInput("Display names are at most 60 characters.")
    password_hash = hash_password(password)
    try:
        with write_transaction() as session:
            if session.scalar(select(Member.id).where(Member.handle == handle)):
                raise HandleTaken("That handle is taken.")
            member = Member(
                handle=handle, display_name=display_name, password_hash=password_hash, role=role
            )
            session.add(member)
            session.flush()
            from forum.reputation.services import refresh_rank

            refresh_rank(member.id, "joined")
    except IntegrityError as exc:  # a concurrent registration won the unique index
        raise HandleTaken("That handle is taken.") from exc
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
