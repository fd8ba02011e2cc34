"""Personal API tokens: create, list, revoke, and find the token a request carries."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from forum import permissions
from forum.database import utcnow, write_transaction
from forum.errors import InvalidInput, NotAllowed
from forum.extensions import db
from forum.models import ApiToken, Member

PREFIX = "forum_pat_"  # recognisable in a leaked config file or a secret scanner's rules
MAX_NAME = 60
MAX_TOKENS = 20  # live tokens per member
LAST_USED_EVERY = timedelta(minutes=1)  # at most one write per token per minute, not per request


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(member: Member, name: str, write: bool) -> tuple[ApiToken, str]:
    """A new token and its secret, which is shown this once and never stored."""
    if not permissions.can_post(member):
        raise NotAllowed("A suspended account cannot create API tokens.")
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"Give the token a name of 1 to {MAX_NAME} characters.")
    if len(live_tokens(member)) >= MAX_TOKENS:
        raise InvalidInput(f"You have {MAX_TOKENS} tokens: revoke one you no longer use first.")
    secret = PREFIX + secrets.token_urlsafe(32)
    member_id = member.id
    with write_transaction() as session:
        token = ApiToken(
            member_id=member_id,
            name=name,
            token_hash=hash_secret(secret),
            scopes="read write" if write else "read",
        )
        session.add(token)
    return token, secret


def revoke_token(member: Member, token_id: int) -> bool:
    """Revoke one of the member's own tokens; False when it is not theirs or already revoked."""
    member_id = member.id
    with write_transaction() as session:
        revoked = session.execute(
            update(ApiToken)
            .where(
                ApiToken.id == token_id,
                ApiToken.member_id == member_id,
                ApiToken.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        ).rowcount
    return bool(revoked)


def live_tokens(member: Member) -> list[ApiToken]:
    """The member's tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.member_id == member.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_for(secret: str) -> ApiToken | None:
    """The live token with this secret (with its member), or None."""
    if not secret.startswith(PREFIX):
        return None
    return db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_secret(secret), ApiToken.revoked_at.is_(None)
        )
    )


def note_used(token: ApiToken) -> None:
    """Keep the token's last-used time to the minute: one UPDATE a minute, not one a request."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    token_id = token.id
    with write_transaction() as session:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    token.last_used_at = now
