"""Badges: moderators create, grant and revoke them with reasons; rules grant them automatically."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditEntry, Badge, Member, MemberBadge
from tests.builders import make_member, make_thread
from tests.pages import login, post_form

BADGE = {
    "name": "Helper",
    "description": "Answers questions",
    "colour": "#3b6ea5",
    "icon": "",
    "reason": "new badge",
    "submit": "Save badge",
}


def create_badge(client, **fields):
    response = post_form(client, "/moderation/badges/new", {**BADGE, **fields})
    assert response.headers["Location"] == "/moderation/badges", response.get_data(as_text=True)


def badge_id(app, name="Helper"):
    with app.app_context():
        return db.session.scalar(select(Badge.id).where(Badge.name == name))


def holders(app, name="Helper") -> set[str]:
    with app.app_context():
        return set(
            db.session.scalars(
                select(Member.handle)
                .join(MemberBadge, MemberBadge.member_id == Member.id)
                .join(Badge)
                .where(Badge.name == name)
            )
        )


def test_moderator_grants_a_badge_and_the_member_shows_it_when_featured(
    app, client, member, moderator, board
):
    make_thread(app, member, board)
    login(client, "maude")
    create_badge(client)
    post_form(
        client,
        "/moderation/members/alice/badges",
        {"grant-badge": badge_id(app), "grant-reason": "great answers"},
        prefix="grant",
    )
    assert holders(app) == {"alice"}
    profile = client.get("/members/alice").get_data(as_text=True)
    assert "Helper" in profile and "great answers" in profile
    post_form(client, "/logout")
    login(client, "alice")
    post_form(
        client,
        "/members/settings",
        {"display_name": "Alice A", "signature": "", "featured_badge": badge_id(app)},
    )
    thread = client.get("/t/1-how-do-i-start").get_data(as_text=True)
    assert '<span class="author-title">Helper</span>' in thread


def test_revoking_a_badge_needs_a_reason_and_unfeatures_it(app, client, member, moderator):
    login(client, "maude")
    create_badge(client)
    post_form(
        client,
        "/moderation/members/alice/badges",
        {"grant-badge": badge_id(app), "grant-reason": "why not"},
        prefix="grant",
    )
    with app.app_context():
        db.session.get(Member, member).featured_badge_id = badge_id(app)
        db.session.commit()
    url = f"/moderation/members/alice/badges/{badge_id(app)}/revoke"
    post_form(client, url, {"revoke-reason": ""}, prefix="revoke")
    assert holders(app) == {"alice"}
    post_form(client, url, {"revoke-reason": "given by mistake"}, prefix="revoke")
    assert holders(app) == set()
    with app.app_context():
        assert db.session.get(Member, member).featured_badge_id is None
        actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-2:] == ["badge.grant", "badge.revoke"]


def test_a_member_cannot_grant_badges(app, client, member, other_member, moderator):
    login(client, "maude")
    create_badge(client)
    post_form(client, "/logout")
    login(client, "alice")
    response = post_form(
        client,
        "/moderation/members/bob/badges",
        {"grant-badge": badge_id(app), "grant-reason": "pal"},
        prefix="grant",
    )
    assert response.status_code == 403
    assert holders(app) == set()


def test_a_member_cannot_feature_a_badge_they_do_not_hold(app, client, member, moderator):
    login(client, "maude")
    create_badge(client)
    post_form(client, "/logout")
    login(client, "alice")
    response = post_form(
        client,
        "/members/settings",
        {"display_name": "Alice A", "signature": "", "featured_badge": badge_id(app)},
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Member, member).featured_badge_id is None


def test_rule_preview_counts_exactly_the_members_the_save_grants(app, client, moderator):
    for n, kudos in enumerate([150, 99, 100, 300, 0]):
        member_id = make_member(app, f"user{n}")
        with app.app_context():
            db.session.get(Member, member_id).kudos_received = kudos
            db.session.commit()
    login(client, "maude")
    rule = {
        "is_automatic": "y",
        "min_kudos": 100,
        "min_posts": 0,
        "min_solutions": 0,
        "min_days": 0,
    }
    preview = post_form(
        client,
        "/moderation/badges/new",
        {**BADGE, **rule, "name": "Hundred", "preview": "Preview", "submit": ""},
    )
    html = preview.get_data(as_text=True)
    shown = int(re.search(r"<strong>(\d+)</strong> members? would receive this badge now", html)[1])
    assert badge_id(app, "Hundred") is None  # a preview saves nothing
    create_badge(client, name="Hundred", **rule)
    assert len(holders(app, "Hundred")) == shown == 3


def test_an_automatic_badge_is_granted_when_a_member_later_qualifies(
    app, client, member, other_member, moderator, board
):
    login(client, "maude")
    create_badge(
        client,
        name="First Kudos",
        is_automatic="y",
        min_kudos=1,
        min_posts=0,
        min_solutions=0,
        min_days=0,
    )
    assert holders(app, "First Kudos") == set()
    make_thread(app, member, board)
    post_form(client, "/logout")
    login(client, "bob")
    post_form(client, "/p/1/kudos")
    assert holders(app, "First Kudos") == {"alice"}
    with app.app_context():
        grant = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "badge.grant"))
        assert grant.actor_id is None and grant.reason.startswith("earned")


def test_retired_badges_are_not_granted(app, client, member, moderator):
    login(client, "maude")
    create_badge(client)
    post_form(client, f"/moderation/badges/{badge_id(app)}/retire", {"reason": "old"})
    post_form(
        client,
        "/moderation/members/alice/badges",
        {"grant-badge": badge_id(app), "grant-reason": "x"},
        prefix="grant",
    )
    assert holders(app) == set()


def test_badge_names_and_reasons_with_markup_are_shown_literally(app, client, member, moderator):
    login(client, "maude")
    create_badge(client, name="<b>{{7*7}}</b>", description="<script>alert(1)</script>")
    post_form(
        client,
        "/moderation/members/alice/badges",
        {
            "grant-badge": badge_id(app, "<b>{{7*7}}</b>"),
            "grant-reason": "<img src=x onerror=alert(1)>",
        },
        prefix="grant",
    )
    html = client.get("/members/alice").get_data(as_text=True)
    assert "&lt;b&gt;{{7*7}}&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>alert(1)" not in html and ">49<" not in html
    audit = client.get("/moderation/audit").get_data(as_text=True)
    assert "<img src=x" not in audit


def test_duplicate_badge_names_are_refused_with_a_message(app, client, moderator):
    login(client, "maude")
    create_badge(client)
    response = post_form(client, "/moderation/badges/new", {**BADGE, "name": "helper"})
    assert response.status_code == 400
    assert "Another badge already has that name." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Badge)) == 1
