"""New-member limits and held posts: whether and why a submission waits for a moderator, the cap
on links and images, and the site settings both read.

hold_reasons is the one place that decides holding (first posts, a spam score), and every posting path (new thread, reply) asks it. Held submissions are HeldPost rows, not
posts, so nothing that reads posts can show them; moderation approves them through the posting
services (forum.moderation.services.approve_held).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from html.parser import HTMLParser

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from forum import permissions, spam
from forum.database import utcnow
from forum.errors import InvalidInput
from forum.extensions import db
from forum.models import HeldPost, HeldStatus, Member, SiteSettings

NEW_MEMBER_DAYS = 1  # a member in their first day is new whatever their post count
EVERYDAY_POST_INTERVAL = 5  # seconds between posts for members who are not new


@dataclass(frozen=True)
class Limits:
    """The new-member settings in force (see SiteSettings and the README's table)."""

    held_first_posts: int
    new_member_posts: int
    new_member_link_cap: int
    new_member_post_interval: int


SETTINGS = tuple(f.name for f in fields(Limits))
CONFIG_KEYS = {name: name.upper() for name in SETTINGS}
# What an admin may set each to: (label, least, most).
RANGES = {
    "held_first_posts": ("Posts held for review", 0, 100),
    "new_member_posts": ("Posts before a member is no longer new", 0, 1000),
    "new_member_link_cap": ("Links and images in a new member's post", 0, 100),
    "new_member_post_interval": ("Seconds between a new member's posts", 5, 3600),
}


def check_limits(values: dict[str, int]) -> Limits:
    """Settings an admin submitted, each within its range, or InvalidInput saying which is not."""
    for name, (label, least, most) in RANGES.items():
        value = values.get(name)
        if not isinstance(value, int) or not least <= value <= most:
            raise InvalidInput(f"{label}: a whole number from {least:,} to {most:,}.")
    return Limits(**{name: values[name] for name in SETTINGS})


def limits(session: Session | None = None) -> Limits:
    """The admins' saved settings, else the config's starting values: one small SELECT, so every
    worker sees a change at once. Only posting paths call it, never a page view."""
    row = (session or db.session).scalar(select(SiteSettings).where(SiteSettings.id == 1))
    if row is not None:
        return Limits(**{name: getattr(row, name) for name in SETTINGS})
    return Limits(**{name: int(current_app.config[key]) for name, key in CONFIG_KEYS.items()})


def is_new_member(member: Member, limits: Limits, now: datetime | None = None) -> bool:
    """New: in their first day, or with fewer visible posts than the threshold. Moderators and
    admins never are. One rule for the link cap and the posting interval."""
    if permissions.can_moderate(member):
        return False
    joined_recently = (now or utcnow()) - member.created_at < timedelta(days=NEW_MEMBER_DAYS)
    return joined_recently or member.post_count < limits.new_member_posts


def post_interval(member: Member, limits: Limits) -> int:
    """Seconds a member waits between posts (Flask-Limiter's posting limit)."""
    return (
        limits.new_member_post_interval if is_new_member(member, limits) else EVERYDAY_POST_INTERVAL
    )


def hold_reasons(
    session: Session, author: Member, limits: Limits, *, subject: str, html: str
) -> tuple[list[str], spam.SpamVerdict | None]:
    """Why this submission must wait for a moderator (empty: it posts now), and its spam verdict.

    First posts: as on Discourse, a member's posts wait until held_first_posts of them were
    approved (the member's visible post count), so a second post sent while the first waits is
    held too. Spam: every member's submission is scored (a spammer's account may be old) and held
    when the verdict says so; the score only ever holds, never removes. Moderators and admins are
    neither held nor scored. subject is a new thread's ("" for a reply), html the rendered body.
    """
    if permissions.can_moderate(author):
        return [], None
    reasons = []
    if author.post_count < limits.held_first_posts:
        reasons.append(f"New member: fewer than {limits.held_first_posts} approved posts")
    verdict = spam.score(session, spam.text_of(subject, html))
    if verdict.holds:
        reasons.append(f"Spam score {verdict.probability:.2f}")
    return reasons, verdict


class _LinkCounter(HTMLParser):
    """Counts links and images in sanitised post HTML, leaving out what the forum itself adds:
    emoticons (our images), @mentions and links within the site (quotes' "wrote" links)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "img" and attributes.get("class") != "emoticon":
            self.count += 1
        elif tag == "a" and attributes.get("class") != "mention":
            href = attributes.get("href") or ""
            if href and not (href.startswith("/") and not href.startswith("//")):
                self.count += 1


def count_links(html: str) -> int:
    """Links and images a member put in a post, counted on its rendered HTML (autolinks too)."""
    counter = _LinkCounter()
    counter.feed(html)
    counter.close()
    return counter.count


def check_link_cap(author: Member, html: str, limits: Limits) -> None:
    """Refuse a new member's post with more links and images than the cap (edits too)."""
    if not is_new_member(author, limits):
        return
    given, cap = count_links(html), limits.new_member_link_cap
    if given > cap:
        things = "link or image" if cap == 1 else "links or images"
        raise InvalidInput(
            f"New members can include at most {cap} {things} in a post ({given} given)."
        )


def hold(
    session: Session,
    *,
    author_id: int,
    body: str,
    html: str,
    reasons: list[str],
    verdict: spam.SpamVerdict | None = None,
    board_id: int | None = None,
    thread_id: int | None = None,
    subject: str = "",
) -> HeldPost:
    """Keep a submission for the moderators, in the caller's unit of work, with its spam verdict
    as it was then (when the classifier was trained); the author's pending counter follows (the
    thread page reads it to know whether to look)."""
    trained = verdict is not None and verdict.trained
    held = HeldPost(
        author_id=author_id,
        board_id=board_id,
        thread_id=thread_id,
        subject=subject,
        body_source=body,
        body_html=html,
        reasons="\n".join(reasons),
        spam_score=verdict.probability if trained else None,
        spam_reasons=[[token, p] for token, p in verdict.reasons] if trained else None,
    )
    session.add(held)
    session.execute(
        update(Member).where(Member.id == author_id).values(pending_posts=Member.pending_posts + 1)
    )
    session.flush()
    return held


def pending_replies(member: Member, thread_id: int) -> list[HeldPost]:
    """The member's replies to this thread still waiting for review, oldest first. No query at
    all for a member with nothing pending (the counter is on the member row already loaded)."""
    if not member.is_authenticated or not member.pending_posts:
        return []
    return list(
        db.session.scalars(
            select(HeldPost)
            .where(
                HeldPost.author_id == member.id,
                HeldPost.thread_id == thread_id,
                HeldPost.status == HeldStatus.PENDING,
            )
            .order_by(HeldPost.created_at, HeldPost.id)
        )
    )


def held_for_viewer(held_id: int, viewer: Member) -> HeldPost | None:
    """A held submission for its author or a moderator (None for anyone else)."""
    held = db.session.get(HeldPost, held_id)
    if held is None or not (permissions.can_moderate(viewer) or held.author_id == viewer.id):
        return None
    return held
