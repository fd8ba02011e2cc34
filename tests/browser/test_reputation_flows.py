"""Reputation in a real browser: the asker accepts a solution, a moderator grants a badge."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.actions import (
    DEMO_BOARD,
    MODERATOR,
    log_in,
    new_person,
    post_article,
    quick_reply,
    register,
    start_thread,
)

pytestmark = pytest.mark.browser


def test_the_asker_accepts_a_reply_and_the_thread_shows_it_solved(page: Page, new_context):
    register(page, new_person("asker"))
    start_thread(page, "How do I withdraw earnings?", "Which method is cheapest?")
    thread_url = page.url
    answerer = new_person("solver")
    other = new_context().new_page()
    register(other, answerer)
    quick_reply(other, thread_url, "Direct to local bank is cheapest.")

    page.goto(thread_url)
    post_article(page, 2, 2).get_by_role("button", name="Accept as solution").click()

    expect(page).to_have_url(re.compile(r"#p2$"))
    summary = page.get_by_role("complementary", name="Accepted solution")
    expect(summary).to_contain_text("2 of 2")
    expect(summary).to_contain_text(answerer.display_name)
    expect(post_article(page, 2, 2).get_by_text("Accepted Solution")).to_be_visible()
    page.get_by_role("link", name=DEMO_BOARD, exact=True).click()
    row = page.get_by_role("row", name=re.compile("How do I withdraw earnings"))
    expect(row.get_by_text("Solved")).to_be_visible()


def test_a_moderator_grants_a_badge_and_it_shows_beside_the_members_posts(page: Page, new_context):
    member = new_person("helper")
    register(page, member)
    start_thread(page, "Tips for a first proposal", "Keep it short and specific.")
    thread_url = page.url
    badge = f"Proposal Pro {member.handle[-6:]}"

    moderator = new_context().new_page()
    log_in(moderator, MODERATOR)
    moderator.goto("/moderation/badges")
    moderator.get_by_role("link", name="Create a badge").click()
    moderator.get_by_label("Badge name").fill(badge)
    moderator.get_by_label("Reason for this change").fill("for great proposals")
    moderator.get_by_role("button", name="Save badge").click()
    expect(moderator.get_by_text(f"Badge “{badge}” saved.")).to_be_visible()

    moderator.goto(f"/members/{member.handle}")
    grant = moderator.locator("form", has=moderator.get_by_role("heading", name="Grant a badge"))
    grant.get_by_label("Badge").select_option(label=badge)
    grant.get_by_label("Reason").fill("helped three newcomers")
    grant.get_by_role("button", name="Grant badge").click()
    expect(moderator.get_by_text(f"Badge “{badge}” granted.")).to_be_visible()
    expect(moderator.get_by_role("region", name="Badges")).to_contain_text(badge)

    page.goto("/members/settings")
    page.get_by_label("Show beside my posts").select_option(label=badge)
    page.get_by_role("button", name="Save settings").click()
    page.goto(thread_url)
    expect(post_article(page, 1, 1).locator(".author-title")).to_have_text(badge)
    expect(post_article(page, 1, 1)).to_have_accessible_name(
        f"Tips for a first proposal — 1 of 1, by {member.display_name}, {badge}"
    )
