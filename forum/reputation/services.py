"""Ranks and badges: the ladder, rank history, automatic and granted badges, featured badges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.orm import Session

from forum import audit, permissions
from forum.database import page_of_rows, utcnow, write_transaction
from forum.errors import InvalidInput, NotAllowed
from forum.extensions import db
from forum.models import Badge, EventKind, Member, MemberBadge, Rank, RankChange
from forum.names import row_to_save
from forum.notifications import services as notifications

DEFAULT_LADDER = (
    # name, posts, kudos, solutions, days since joining
    ("New Member", 0, 0, 0, 0),
    ("Frequent Visitor", 5, 0, 0, 0),
    ("Active Member", 20, 5, 0, 0),
    ("Ace Contributor", 50, 25, 3, 0),
    ("Community Leader", 150, 100, 15, 180),
    ("Community Guru", 400, 300, 50, 365),
)
# Where a fixed rank came from, as its rank-history entry's cause begins (the profile says which).
FIXED_BY_MODERATOR, FIXED_AT_IMPORT = "set by a moderator", "set at import"
METRICS = (  # threshold attribute suffix, member counter, how a shortfall reads
    ("posts", "post_count", "post", "posts"),
    ("kudos", "kudos_received", "kudos", "kudos"),
    ("solutions", "solution_count", "accepted solution", "accepted solutions"),
)


@dataclass(frozen=True)
class Thresholds:
    posts: int = 0
    kudos: int = 0
    solutions: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if min(self.posts, self.kudos, self.solutions, self.days) < 0:
            raise InvalidInput("Thresholds cannot be negative.")

    @classmethod
    def of(cls, row: Rank | Badge) -> Thresholds:
        """A rank's rung or a badge's rule."""
        return cls(row.min_posts, row.min_kudos, row.min_solutions, row.min_days)

    def apply_to(self, row: Rank | Badge) -> None:
        row.min_posts, row.min_kudos = self.posts, self.kudos
        row.min_solutions, row.min_days = self.solutions, self.days

    def held_by(self, member: Member, today: date) -> bool:
        return (
            member.post_count >= self.posts
            and member.kudos_received >= self.kudos
            and member.solution_count >= self.solutions
            and (today - member.member_since).days >= self.days
        )

    def sql_condition(self, today: date):
        """The same test as held_by, as SQL over the members table."""
        return and_(
            Member.post_count >= self.posts,
            Member.kudos_received >= self.kudos,
            Member.solution_count >= self.solutions,
            Member.member_since <= today - timedelta(days=self.days),
        )


def seed_default_ladder(session: Session) -> None:
    """Insert the default ladder into an empty ranks table (caller commits)."""
    if session.scalar(select(Rank.id).limit(1)) is not None:
        return
    for position, (name, *thresholds) in enumerate(DEFAULT_LADDER):
        rank = Rank(name=name, position=position)
        rank.min_posts, rank.min_kudos, rank.min_solutions, rank.min_days = thresholds
        session.add(rank)


def ladder(session: Session) -> list[Rank]:
    return list(session.scalars(select(Rank).order_by(Rank.position)))


def earned_rank(ranks: list[Rank], member: Member, today: date | None = None) -> Rank | None:
    """The highest rung of the ladder (ordered lowest first) whose thresholds all hold."""
    today = today or utcnow().date()
    best = None
    for rank in ranks:
        if Thresholds.of(rank).held_by(member, today):
            best = rank
    return best


def refresh_rank(session: Session, member_id: int, cause: str = "") -> None:
    """Recompute a member's ladder rank after their numbers changed, keeping the history, and
    grant automatic badges they now qualify for (inside the caller's unit of work)."""
    member = session.get(Member, member_id, populate_existing=True)
    ranks = ladder(session)
    _apply_rank(session, member, earned_rank(ranks, member), cause)
    award_automatic_badges(session, member)


def _apply_rank(session: Session, member: Member, rank: Rank | None, cause: str) -> None:
    if member.rank_id == (rank.id if rank else None):
        return
    old = member.rank.name if member.rank else ""
    session.execute(
        update(Member).where(Member.id == member.id).values(rank_id=rank.id if rank else None)
    )
    session.add(
        RankChange(
            member_id=member.id, old_rank=old, new_rank=rank.name if rank else "", cause=cause[:120]
        )
    )
    if old and rank is not None:  # joining gives the first rank: that is no news
        notifications.record(
            session, EventKind.RANK, actor_id=None, member_id=member.id, details=rank.name
        )
    session.expire(member, ["rank_id", "rank"])


def award_automatic_badges(session: Session, member: Member) -> None:
    today = utcnow().date()
    held = select(MemberBadge.badge_id).where(MemberBadge.member_id == member.id)
    for badge in session.scalars(
        select(Badge).where(Badge.is_automatic, Badge.is_retired.is_(False), Badge.id.not_in(held))
    ):
        if Thresholds.of(badge).held_by(member, today):
            _grant(session, None, member.id, badge, f"earned: {describe(Thresholds.of(badge))}")


def describe(thresholds: Thresholds) -> str:
    parts = [
        f"{getattr(thresholds, key)} {plural}"
        for key, _c, _s, plural in METRICS
        if getattr(thresholds, key)
    ]
    if thresholds.days:
        parts.append(f"{thresholds.days} days as a member")
    return ", ".join(parts) or "everyone"


@dataclass(frozen=True)
class NextRank:
    rank: Rank
    missing: list[str]  # "12 more accepted solutions", ...


def next_rank(member: Member, today: date | None = None) -> NextRank | None:
    """What the member still needs for the next rung (Khoros hides this; we say it)."""
    today = today or utcnow().date()
    ranks = ladder(db.session)
    current = earned_rank(ranks, member, today)
    above = [r for r in ranks if current is None or r.position > current.position]
    if not above:
        return None
    target = above[0]
    missing = []
    for key, counter, singular, plural in METRICS:
        gap = getattr(target, f"min_{key}") - getattr(member, counter)
        if gap > 0:
            missing.append(f"{gap} more {singular if gap == 1 else plural}")
    days_gap = target.min_days - (today - member.member_since).days
    if days_gap > 0:
        missing.append(f"{days_gap} more day{'s' if days_gap != 1 else ''} as a member")
    return NextRank(target, missing)


def recompute_all_ranks(session: Session, cause: str) -> None:
    """After a ladder edit: every member's rank against the new ladder (caller's unit of work)."""
    ranks = ladder(session)
    for member in session.scalars(select(Member)):
        _apply_rank(session, member, earned_rank(ranks, member), cause)


# ladder editing --------------------------------------------------------------------------------


def _require_moderator(actor: Member) -> None:
    if not permissions.can_moderate(actor):
        raise NotAllowed("Only moderators can do that.")


def save_rank(actor: Member, rank_id: int | None, name: str, thresholds: Thresholds) -> Rank:
    """Create a rung (rank_id None, placed by its thresholds) or change one; ranks are recomputed."""
    _require_moderator(actor)
    actor_id = actor.id
    with write_transaction() as session:
        top = session.scalar(select(func.max(Rank.position))) or 0
        rank, name = row_to_save(session, Rank, rank_id, name)
        if rank_id is None:
            rank.position = top + 1
        action = "rank.create" if rank_id is None else "rank.update"
        before = f"{rank.name}: {describe(Thresholds.of(rank))}" if rank_id else ""
        rank.name = name
        thresholds.apply_to(rank)
        session.add(rank)
        session.flush()
        _reorder(session)
        audit.record(
            session, actor_id, action, reason=f"{name}: {describe(thresholds)}", details=before
        )
        recompute_all_ranks(session, f"ladder changed ({name})")
    return rank


def _reorder(session: Session) -> None:
    """Keep positions in ladder order: the rung with more required sorts higher."""
    ranks = list(session.scalars(select(Rank)))
    ranks.sort(key=lambda r: (r.min_posts, r.min_kudos, r.min_solutions, r.min_days, r.id))
    for offset, rank in enumerate(ranks):  # two passes: positions are unique
        rank.position = 10_000 + offset
    session.flush()
    for offset, rank in enumerate(ranks):
        rank.position = offset
    session.flush()


def delete_rank(actor: Member, rank_id: int) -> None:
    _require_moderator(actor)
    actor_id = actor.id
    with write_transaction() as session:
        rank = session.get(Rank, rank_id)
        if rank is None:
            return
        if session.scalar(select(func.count()).select_from(Rank)) <= 1:
            raise InvalidInput("The ladder needs at least one rank.")
        audit.record(session, actor_id, "rank.delete", reason=rank.name)
        session.execute(
            update(Member).where(Member.fixed_rank_id == rank_id).values(fixed_rank_id=None)
        )
        session.execute(update(Member).where(Member.rank_id == rank_id).values(rank_id=None))
        session.delete(rank)
        session.flush()
        _reorder(session)
        recompute_all_ranks(session, f"ladder changed ({rank.name} removed)")


def set_fixed_rank(actor: Member, member: Member, rank_id: int | None, reason: str) -> None:
    """Pin a member to a rank the ladder will not recompute (or clear the pin)."""
    _require_moderator(actor)
    if not reason.strip():
        raise InvalidInput("Say why.")
    actor_id, member_id = actor.id, member.id
    with write_transaction() as session:
        member = session.get(Member, member_id)
        rank = session.get(Rank, rank_id) if rank_id else None
        if rank_id and rank is None:
            raise InvalidInput("That rank does not exist.")
        old = member.fixed_rank.name if member.fixed_rank else ""
        member.fixed_rank_id = rank.id if rank else None
        session.add(
            RankChange(
                member_id=member_id,
                old_rank=old or "(ladder)",
                new_rank=rank.name if rank else "(ladder)",
                cause=f"{FIXED_BY_MODERATOR}: {reason}"[:120],
            )
        )
        audit.record(
            session,
            actor_id,
            "rank.fix" if rank else "rank.unfix",
            member_id=member_id,
            reason=reason,
            details=rank.name if rank else old,
        )


# badges ----------------------------------------------------------------------------------------


def badges_listed(page: int):
    """The moderators' list of badges, active ones first, a page at a time."""
    return page_of_rows(select(Badge).order_by(Badge.is_retired, Badge.name, Badge.id), page)


def badges_held(member: Member) -> list[Badge]:
    """The badges a member holds, by name (what they may feature)."""
    return list(
        db.session.scalars(
            select(Badge)
            .join(MemberBadge)
            .where(MemberBadge.member_id == member.id)
            .order_by(Badge.name)
        )
    )


def grantable_badges(member: Member) -> list[Badge]:
    """Active badges the member does not hold yet, by name."""
    held = select(MemberBadge.badge_id).where(MemberBadge.member_id == member.id)
    return list(
        db.session.scalars(
            select(Badge)
            .where(Badge.is_retired.is_(False), Badge.id.not_in(held))
            .order_by(Badge.name)
        )
    )


def matching_members(thresholds: Thresholds, today: date | None = None) -> int:
    """How many members a rule would reach now (shown before the rule is saved)."""
    return db.session.scalar(
        select(func.count())
        .select_from(Member)
        .where(thresholds.sql_condition(today or utcnow().date()))
    )


def save_badge(
    actor: Member,
    badge_id: int | None,
    *,
    name: str,
    description: str,
    colour: str,
    icon: str,
    rule: Thresholds | None,
    reason: str,
) -> Badge:
    """Create or edit a badge; a rule makes it automatic and grants it to everyone it matches."""
    _require_moderator(actor)
    actor_id = actor.id
    with write_transaction() as session:
        badge, name = row_to_save(session, Badge, badge_id, name)
        old_rule = describe(Thresholds.of(badge)) if badge.is_automatic else ""
        badge.name, badge.description, badge.colour, badge.icon = name, description, colour, icon
        badge.is_automatic = rule is not None
        rule = rule or Thresholds()
        rule.apply_to(badge)
        session.add(badge)
        session.flush()
        audit.record(
            session,
            actor_id,
            "badge.create" if badge_id is None else "badge.update",
            badge_id=badge.id,
            reason=reason,
            details=name,
        )
        new_rule = describe(rule) if badge.is_automatic else ""
        if new_rule != old_rule:
            audit.record(
                session,
                actor_id,
                "badge.rule",
                badge_id=badge.id,
                reason=reason,
                details=f"{old_rule or 'no rule'} -> {new_rule or 'no rule'}",
            )
        if badge.is_automatic and not badge.is_retired:
            _grant_to_matching(session, badge, rule)
    return badge


def _grant_to_matching(session: Session, badge: Badge, rule: Thresholds) -> int:
    held = select(MemberBadge.member_id).where(MemberBadge.badge_id == badge.id)
    member_ids = list(
        session.scalars(
            select(Member.id).where(rule.sql_condition(utcnow().date()), Member.id.not_in(held))
        )
    )
    for member_id in member_ids:
        _grant(session, None, member_id, badge, f"earned: {describe(rule)}")
    return len(member_ids)


def set_badge_retired(actor: Member, badge: Badge, retired: bool, reason: str) -> None:
    """Retired badges stay on the members who hold them but are granted no more."""
    _require_moderator(actor)
    actor_id, badge_id = actor.id, badge.id
    with write_transaction() as session:
        session.get(Badge, badge_id).is_retired = retired
        audit.record(
            session,
            actor_id,
            "badge.retire" if retired else "badge.unretire",
            badge_id=badge_id,
            reason=reason,
        )


def _grant(
    session: Session, actor_id: int | None, member_id: int, badge: Badge, reason: str
) -> None:
    session.add(
        MemberBadge(
            member_id=member_id, badge_id=badge.id, granted_by_id=actor_id, reason=reason[:255]
        )
    )
    audit.record(
        session, actor_id, "badge.grant", member_id=member_id, badge_id=badge.id, reason=reason
    )
    notifications.record(
        session, EventKind.BADGE, actor_id=actor_id, member_id=member_id, details=badge.name
    )


def grant_badge(actor: Member, member: Member, badge: Badge, reason: str) -> bool:
    """Grant a badge with a reason; False if the member already holds it."""
    _require_moderator(actor)
    if not reason.strip():
        raise InvalidInput("Say why the badge is granted.")
    if badge.is_retired:
        raise InvalidInput("That badge is retired.")
    actor_id, member_id, badge_id = actor.id, member.id, badge.id
    with write_transaction() as session:
        if session.scalar(
            select(MemberBadge.id).where(
                MemberBadge.member_id == member_id, MemberBadge.badge_id == badge_id
            )
        ):
            return False
        _grant(session, actor_id, member_id, session.get(Badge, badge_id), reason)
    return True


def revoke_badge(actor: Member, member: Member, badge: Badge, reason: str) -> bool:
    """Take a badge back with a reason; a featured badge stops being featured."""
    _require_moderator(actor)
    if not reason.strip():
        raise InvalidInput("Say why the badge is revoked.")
    actor_id, member_id, badge_id = actor.id, member.id, badge.id
    with write_transaction() as session:
        deleted = session.execute(
            delete(MemberBadge).where(
                MemberBadge.member_id == member_id, MemberBadge.badge_id == badge_id
            )
        ).rowcount
        if not deleted:
            return False
        session.execute(
            update(Member)
            .where(Member.id == member_id, Member.featured_badge_id == badge_id)
            .values(featured_badge_id=None)
        )
        audit.record(
            session, actor_id, "badge.revoke", member_id=member_id, badge_id=badge_id, reason=reason
        )
    return True


def fixed_rank_origin(member: Member) -> str:
    """Who set the member's fixed rank ("set by a moderator", "set at import"), from the rank
    history; "" when it is not fixed or the history does not say (an import before this)."""
    if member.fixed_rank_id is None:
        return ""
    causes = db.session.scalars(
        select(RankChange.cause)
        .where(RankChange.member_id == member.id)
        .order_by(RankChange.changed_at.desc(), RankChange.id.desc())
    )
    for cause in causes:
        for origin in (FIXED_BY_MODERATOR, FIXED_AT_IMPORT):
            if cause.startswith(origin):
                return origin
    return ""


def set_featured_badge(session: Session, member_id: int, badge_id: int | None) -> None:
    """Show one of your own badges beside your posts instead of your rank (None: the rank),
    inside the caller's unit of work (the settings form saves it with the rest)."""
    if badge_id is not None and not session.scalar(
        select(MemberBadge.id).where(
            MemberBadge.member_id == member_id, MemberBadge.badge_id == badge_id
        )
    ):
        raise NotAllowed("You can only feature a badge you hold.")
    session.get(Member, member_id).featured_badge_id = badge_id
