"""A new member's first post waits for a moderator, in a real browser: the newcomer sees it
awaiting review, a visitor does not see it, a moderator approves it from the queue in one click,
and then the visitor does.

The test servers start with holding off (tests/servers.py), so the other browser tests' fresh
members post at once; here the admin turns it on in the settings page, and back off after.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.actions import (
    DEMO_BOARD,
    MODERATOR,
    log_in,
    new_person,
    post_article,
    register,
)

pytestmark = pytest.mark.browser


def set_held_first_posts(page: Page, count: int) -> None:
    """As the admin, save the new-member settings page with this many posts held."""
    page.goto("/moderation/settings")
    page.get_by_label("Posts held for review").fill(str(count))
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()


@pytest.fixture
def holding_first_posts(new_context) -> Iterator[Page]:
    """The admin's page, logged in, with a new member's first post held until the test ends."""
    admin = new_context().new_page()
    log_in(admin, MODERATOR)
    set_held_first_posts(admin, 1)
    yield admin
    set_held_first_posts(admin, 0)


def test_a_moderator_approves_a_held_first_post_and_then_others_see_it(
    page: Page, new_context, holding_first_posts: Page
):
    newcomer = new_person("newcomer")
    subject = f"First question from {newcomer.display_name}"
    register(page, newcomer)
    page.goto("/")
    page.get_by_role("link", name=DEMO_BOARD, exact=True).click()
    page.get_by_role("link", name="Ask a question").click()
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill("How do I write a good first proposal?")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Your post is awaiting review by a moderator.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.get_by_text("Awaiting review", exact=True)).to_be_visible()

    visitor = new_context().new_page()
    visitor.goto("/")
    visitor.get_by_role("link", name=DEMO_BOARD, exact=True).click()
    expect(visitor.get_by_role("link", name=subject)).to_have_count(0)

    moderator = holding_first_posts
    moderator.goto("/moderation/queue")
    held = moderator.locator("li.held-item", has_text=subject)
    expect(held).to_contain_text("How do I write a good first proposal?")
    expect(held).to_contain_text("New member")
    held.get_by_role("button", name="Approve").click()
    expect(moderator.get_by_text("Approved:")).to_be_visible()
    expect(moderator.locator("li.held-item", has_text=subject)).to_have_count(0)

    visitor.reload()
    visitor.get_by_role("link", name=subject).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(subject)
    expect(visitor.get_by_text("How do I write a good first proposal?")).to_be_visible()
    expect(post_article(visitor, 1, 1)).to_contain_text(newcomer.display_name)
