"""Profile pages."""

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forum.extensions import db
from forum.members import bp
from forum.models import Member, MemberBadge, Post, Thread


@bp.get("/<handle>")
def profile(handle: str):
    member = db.first_or_404(select(Member).where(Member.handle == handle.lower()))
    recent_posts = db.session.scalars(
        select(Post)
        .join(Post.thread)
        .where(Post.author_id == member.id, Post.is_removed.is_(False), Thread.is_hidden.is_(False))
        .options(joinedload(Post.thread))
        .order_by(Post.created_at.desc())
        .limit(10)
    ).all()
    badges = db.session.scalars(
        select(MemberBadge)
        .where(MemberBadge.member_id == member.id)
        .order_by(MemberBadge.granted_at)
    ).all()
    return render_template(
        "members/profile.html", member=member, recent_posts=recent_posts, badges=badges
    )
