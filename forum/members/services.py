"""A member's profile and settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from forum import markup, timezones
from forum.auth.services import normalise_display_name
from forum.database import write_transaction
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import Member, MemberBadge, Post, RankChange, Thread
from forum.reputation.services import (
    NextRank,
    fixed_rank_origin,
    next_rank,
    set_featured_badge,
)
from forum.text import storable
from forum.threads.lists import public_posts

SIGNATURE_LENGTH, SIGNATURE_LINKS = 255, 2


def check_signature(signature: str) -> str:
    """A signature fits under every post: short, and few links."""
    if len(signature) > SIGNATURE_LENGTH:
        raise InvalidInput(f"Signatures are at most {SIGNATURE_LENGTH} characters.")
    if markup.count_links(signature) > SIGNATURE_LINKS:
        raise InvalidInput(f"Signatures may contain at most {SIGNATURE_LINKS} links.")
    return signature


def check_time_zone(name: str) -> str:
    """A time zone is an IANA name the tz database knows, such as "Europe/Berlin"."""
    if timezones.zone_named(name) is None:
        raise InvalidInput(
            f"“{name[:64]}” is not a time zone we know: choose one from the list"
            " (names like Europe/Berlin or America/New_York)."
        )
    return name


def update_settings(
    member: Member,
    *,
    display_name: str,
    signature: str,
    featured_badge_id: int | None,
    time_zone: str | None,
) -> None:
    """Change the name and signature shown with one's posts, the featured badge and the time
    zone of one's pages and e-mail (None: not chosen, pages follow the browser)."""
    display_name = normalise_display_name(display_name)
    signature = check_signature(storable(signature))
    time_zone = None if time_zone is None else check_time_zone(time_zone)
    html = str(markup.render_markdown(signature)) if signature.strip() else ""
    member_id = member.id
    with write_transaction() as session:  # one unit of work: all of it is saved, or none
        set_featured_badge(session, member_id, featured_badge_id)
        member = session.get(Member, member_id)
        member.display_name = display_name
        member.signature_source, member.signature_html = signature, html
        member.time_zone = time_zone


def rerender_signatures() -> None:
    """Re-render every signature from its Markdown (after the renderer changed)."""
    with write_transaction() as session:
        signatures = session.execute(
            select(Member.id, Member.signature_source)
            .where(Member.signature_source != "")
            .with_for_update()
        ).all()
        for member_id, source in signatures:
            session.execute(
                update(Member)
                .where(Member.id == member_id)
                .values(signature_html=str(markup.render_markdown(source)))
            )


@dataclass
class Profile:
    member: Member
    badges: list[MemberBadge]
    rank_history: list[RankChange]
    recent_posts: list[Post]
    recent_threads: list[Thread]
    next_rank: NextRank | None
    fixed_rank_origin: str  # "set by a moderator", "set at import", or "" (not fixed, unknown)


def profile(member: Member) -> Profile:
    session = db.session
    return Profile(
        member=member,
        badges=list(
            session.scalars(
                select(MemberBadge)
                .where(MemberBadge.member_id == member.id)
                .order_by(MemberBadge.granted_at)
            )
        ),
        rank_history=list(
            session.scalars(
                select(RankChange)
                .where(RankChange.member_id == member.id)
                .order_by(RankChange.changed_at.desc(), RankChange.id.desc())
                .limit(20)
            )
        ),
        recent_posts=list(
            session.scalars(
                select(Post)
                .join(Post.thread)
                .where(Post.author_id == member.id, *public_posts())
                .options(joinedload(Post.thread))
                .order_by(Post.created_at.desc())
                .limit(10)
            )
        ),
        recent_threads=list(
            session.scalars(
                select(Thread)
                .where(Thread.author_id == member.id, Thread.is_hidden.is_(False))
                .order_by(Thread.created_at.desc())
                .limit(10)
            )
        ),
        next_rank=None if member.fixed_rank_id else next_rank(member),
        fixed_rank_origin=fixed_rank_origin(member),
    )
