"""Rank ladder rules: a member holds the highest rank whose thresholds all hold."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from forum.database import utcnow
from forum.extensions import db
from forum.models import Member, Rank

DEFAULT_LADDER = (
    # name, posts, kudos, solutions, days since joining
    ("New Member", 0, 0, 0, 0),
    ("Frequent Visitor", 5, 0, 0, 0),
    ("Active Member", 20, 5, 0, 0),
    ("Ace Contributor", 50, 25, 3, 0),
    ("Community Leader", 150, 100, 15, 180),
    ("Community Guru", 400, 300, 50, 365),
)


def seed_default_ladder() -> None:
    """Insert the default ladder into an empty ranks table (caller commits)."""
    if db.session.scalar(select(Rank.id).limit(1)) is not None:
        return
    for position, (name, posts, kudos, solutions, days) in enumerate(DEFAULT_LADDER):
        db.session.add(
            Rank(
                name=name,
                position=position,
                min_posts=posts,
                min_kudos=kudos,
                min_solutions=solutions,
                min_days=days,
            )
        )


def qualifies(rank: Rank, posts: int, kudos: int, solutions: int, days: int) -> bool:
    return (
        posts >= rank.min_posts
        and kudos >= rank.min_kudos
        and solutions >= rank.min_solutions
        and days >= rank.min_days
    )


def earned_rank(ladder: list[Rank], member: Member, today: date | None = None) -> Rank | None:
    """The highest rung of the ladder (ordered lowest first) the member's numbers reach."""
    days = ((today or utcnow().date()) - member.member_since).days
    best = None
    for rank in ladder:
        if qualifies(rank, member.post_count, member.kudos_received, member.solution_count, days):
            best = rank
    return best


def refresh_rank(member_id: int) -> None:
    """Recompute a member's ladder rank after their numbers changed (inside the caller's unit of work)."""
    session = db.session
    member = session.get(Member, member_id, populate_existing=True)
    ladder = list(session.scalars(select(Rank).order_by(Rank.position)))
    rank = earned_rank(ladder, member)
    rank_id = rank.id if rank else None
    if member.rank_id != rank_id:
        session.execute(update(Member).where(Member.id == member_id).values(rank_id=rank_id))
        session.expire(member, ["rank_id", "rank"])
