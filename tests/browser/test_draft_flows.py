"""Drafts in a real browser: the reply box keeps what a member typed until they post it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.actions import DEMO_BOARD, new_person, register, start_thread

pytestmark = pytest.mark.browser


def test_an_unfinished_reply_waits_in_the_box_until_it_is_posted(page: Page):
    register(page, new_person("drafter"))
    start_thread(page, "Do drafts survive a detour?", "Asking for a friend.")
    thread_url = page.url
    form = page.get_by_role("region", name="Reply to this thread")
    box = form.get_by_label("Reply", exact=True)

    box.press_sequentially("Half of my answer, typed")
    expect(form.get_by_role("status")).to_have_text(re.compile(r"^Draft saved at"))
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name=DEMO_BOARD).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_BOARD)
    page.get_by_role("link", name="Do drafts survive a detour?").click()

    expect(box).to_have_value("Half of my answer, typed")
    expect(form.get_by_role("status")).to_have_text(re.compile(r"^Your draft from .* is restored"))

    box.press("Control+End")  # the caret starts before the restored text
    box.press_sequentially(" and finished.")
    form.get_by_role("button", name="Post reply").click()
    expect(page).to_have_url(re.compile(r"#p2$"))
    page.goto(thread_url)

    expect(box).to_have_value("")
    expect(form.get_by_role("button", name="Discard draft")).to_be_hidden()
    expect(page.get_by_role("article").nth(1)).to_contain_text(
        "Half of my answer, typed and finished."
    )
