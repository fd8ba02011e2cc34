"""Notifications in a real browser, with the jobs worker and a real SMTP server behind the forum:
a confirmed address, a reply heard of in the header and by e-mail, a mention, a solution."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.actions import (
    Forum,
    banner,
    mail_to,
    new_person,
    notification_lines,
    post_article,
    quick_reply,
    register,
    reload_until_visible,
    screenshot,
    start_thread,
)

pytestmark = pytest.mark.browser


def unread_count(page: Page) -> Locator:
    return banner(page).locator(".unread-count")


def test_replies_mentions_and_solutions_reach_members_on_the_site_and_by_mail(
    page: Page, new_context, forum: Forum
):
    asker, answerer, mentioned = new_person("asker"), new_person("answerer"), new_person("mentee")
    subject = f"Can a client tip after closing? {asker.handle[-6:]}"

    # The asker registers and confirms their address through the link mailed to them.
    register(page, asker)
    confirm = mail_to(forum, asker, "Confirm your e-mail address")
    link = re.search(r"https?://\S+/confirm-email/\S+", confirm)
    assert link, confirm
    page.goto(urlsplit(link[0]).path)
    expect(page.get_by_text(f"Thanks: {asker.email} is confirmed.")).to_be_visible()
    start_thread(page, subject, "The contract is closed; can they still send a bonus?")
    thread_url = page.url

    mentioned_page = new_context().new_page()
    register(mentioned_page, mentioned)

    other = new_context().new_page()
    register(other, answerer)
    quick_reply(other, thread_url, "Yes, from the closed contract's page.")
    expect(other).to_have_url(re.compile(r"#p2$"))

    # The asker hears of it in the header (the worker's work shows on a later page load).
    page.goto("/")
    reload_until_visible(page, unread_count(page))
    expect(unread_count(page)).to_have_text("1 unread")
    banner(page).get_by_role("link", name=re.compile(r"^Notifications")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    reply_notice = f"{answerer.display_name} replied in “{subject}”"
    expect(notification_lines(page)).to_have_count(1)
    screenshot(page, forum, "notifications-unread")
    page.get_by_role("link", name=reply_notice).click()
    expect(page).to_have_url(re.compile(r"#p2$"))
    expect(post_article(page, 2, 2)).to_be_visible()
    expect(post_article(page, 2, 2)).to_contain_text("from the closed contract's page")
    expect(unread_count(page)).to_have_count(0)

    # ... and by e-mail, since replies in threads one started are mailed at once by default.
    reply_mail = mail_to(forum, asker, re.escape(reply_notice))

    # The answerer @mentions a member: they hear of it once.
    quick_reply(other, thread_url, f"@{mentioned.handle} has done this too.")
    expect(other).to_have_url(re.compile(r"#p3$"))
    mentioned_page.goto("/")
    reload_until_visible(mentioned_page, unread_count(mentioned_page))
    expect(unread_count(mentioned_page)).to_have_text("1 unread")
    mentioned_page.goto("/notifications")
    expect(notification_lines(mentioned_page)).to_have_count(1)
    expect(notification_lines(mentioned_page)).to_contain_text(
        f"{answerer.display_name} mentioned you in “{subject}”"
    )

    # The asker accepts the first reply; the answerer hears their reply is the solution.
    page.goto(thread_url)
    post_article(page, 2, 3).get_by_role("button", name="Accept as solution").click()
    expect(page).to_have_url(re.compile(r"#p2$"))
    expect(page.get_by_role("complementary", name="Accepted solution")).to_contain_text(
        answerer.display_name
    )
    solved = other.get_by_role(
        "link", name=f"Your reply in “{subject}” was accepted as the solution"
    )
    other.goto("/notifications")
    reload_until_visible(other, solved)
    screenshot(other, forum, "notifications-solution")
    solved.click()
    expect(other).to_have_url(re.compile(r"#p2$"))
    expect(post_article(other, 2, 3)).to_be_visible()

    # The link in the asker's e-mail about the reply leads to that reply.
    read_it = re.search(r"Read it: (https?://\S+)", reply_mail)
    assert read_it, reply_mail
    assert read_it[1].startswith(forum.base_url + "/"), read_it[1]
    page.goto(read_it[1])
    expect(page).to_have_url(re.compile(r"#p2$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)  # and "Solved"
    expect(post_article(page, 2, 3)).to_be_visible()
    expect(post_article(page, 2, 3)).to_contain_text("from the closed contract's page")

    # Whatever else the worker did meanwhile, the mention stayed one notification.
    mentioned_page.goto("/notifications")
    expect(notification_lines(mentioned_page)).to_have_count(1)
