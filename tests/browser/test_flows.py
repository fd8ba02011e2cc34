"""What members do, done in a real browser: register, log in and out, post, reply, quote, kudos, search."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.actions import (
    DEMO_SUBJECT,
    banner,
    log_in,
    log_out,
    new_person,
    open_demo_thread,
    post_article,
    quick_reply,
    register,
    screenshot,
    start_thread,
)

pytestmark = pytest.mark.browser


def test_a_new_member_registers_and_sees_their_name_in_the_header(page: Page):
    person = new_person("reg")
    page.goto("/")
    banner(page).get_by_role("link", name="Register").click()
    page.get_by_label("Handle").fill(person.handle)
    page.get_by_label("Display name").fill(person.display_name)
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text(f"Welcome, {person.display_name}!")).to_be_visible()
    expect(page.get_by_text(f"We sent a link to {person.email}")).to_be_visible()
    expect(banner(page).get_by_role("link", name=person.display_name)).to_be_visible()
    expect(banner(page).get_by_role("link", name="Log in")).to_have_count(0)


def test_cookies_copied_before_logging_out_do_not_log_anyone_in_afterwards(page: Page, new_context):
    person = new_person("leaver")
    register(page, person)
    cookies = page.context.cookies()
    log_out(page)

    replay = new_context()
    replay.add_cookies(cookies)
    other = replay.new_page()
    other.goto("/")

    expect(banner(other).get_by_role("link", name="Log in")).to_be_visible()
    expect(banner(other).get_by_role("link", name=person.display_name)).to_have_count(0)


def test_remember_me_keeps_a_member_logged_in_after_the_browser_closes(page: Page, new_context):
    person = new_person("keeper")
    register(page, person)
    log_out(page)
    log_in(page, person, remember=True)

    # A browser that closed forgets its session cookie and keeps only cookies that have an expiry.
    lasting = [c for c in page.context.cookies() if c["expires"] > 0]
    reopened = new_context()
    reopened.add_cookies(lasting)
    later = reopened.new_page()
    later.goto("/")

    expect(banner(later).get_by_role("link", name=person.display_name)).to_be_visible()


def test_a_thread_started_from_the_board_shows_its_markdown_preview_then_posts(page: Page):
    register(page, new_person("asker"))
    page.goto("/")
    page.get_by_role("link", name="Freelancers", exact=True).click()
    page.get_by_role("link", name="Ask a question").click()
    expect(page.get_by_label("Board").locator("option:checked")).to_have_text("Freelancers")
    page.get_by_label("Subject").fill("Is a milestone paid on approval?")
    page.get_by_label("Message").fill("Is it **bold** to ask twice? :)")

    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    expect(preview.locator("strong")).to_have_text("bold")
    smiley = preview.get_by_role("img", name="Smiley Happy")
    expect(smiley).to_be_visible()
    assert smiley.evaluate("img => img.complete && img.naturalWidth > 0"), "the smiley did not load"
    expect(page.get_by_label("Message")).to_have_value("Is it **bold** to ask twice? :)")

    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Is a milestone paid on approval?")
    opening = post_article(page, 1, 1)
    expect(opening.get_by_text("1 of 1", exact=True)).to_be_visible()
    expect(opening.locator(".post-body strong")).to_have_text("bold")
    expect(opening.get_by_role("img", name="Smiley Happy")).to_be_visible()


def test_another_member_answers_through_the_quick_reply_form(page: Page, new_context):
    register(page, new_person("asker"))
    start_thread(page, "Where do I see my connects?", "I cannot find them anywhere.")
    thread_url = page.url
    answerer = new_person("helper")
    other = new_context().new_page()
    register(other, answerer)

    quick_reply(other, thread_url, "Under *Settings*, then Connects.")

    expect(other).to_have_url(re.compile(r"#p2$"))
    reply = post_article(other, 2, 2)
    expect(reply).to_have_accessible_name(
        f"Re: Where do I see my connects? — 2 of 2, by {answerer.display_name}, New Member"
    )
    expect(reply.locator(".post-body em")).to_have_text("Settings")


def test_quote_fills_the_reply_box_with_the_post_naming_its_author(page: Page, new_context):
    asker = new_person("asker")
    register(page, asker)
    start_thread(page, "Can I pause a contract?", "My client is away for a month.")
    thread_url = page.url
    other = new_context().new_page()
    register(other, new_person("quoter"))

    other.goto(thread_url)
    post_article(other, 1, 1).get_by_role("link", name="Quote").click()

    box = other.get_by_label("Reply", exact=True)
    expect(box).to_have_value(
        re.compile(
            re.escape(f"> **{asker.display_name} [wrote](/p/")
            + r"\d+"
            + re.escape("):**\n>\n> My client is away for a month.\n\n")
        )
    )
    box.press("End")
    box.press_sequentially("Ask them to pause it.")
    other.get_by_role("button", name="Post reply").click()
    quoted = post_article(other, 2, 2).locator("blockquote")
    expect(quoted).to_contain_text(f"{asker.display_name} wrote:")
    expect(quoted).to_contain_text("My client is away for a month.")


def test_kudos_given_counts_one_and_taking_it_back_counts_zero(page: Page, new_context):
    register(page, new_person("asker"))
    start_thread(page, "Is a cover letter required?", "The form says optional.")
    thread_url = page.url
    other = new_context().new_page()
    register(other, new_person("fan"))
    other.goto(thread_url)
    post = post_article(other, 1, 1)
    expect(post.get_by_text("0 Kudos")).to_be_visible()

    post.get_by_role("button", name="Give kudos").click()
    expect(post.get_by_text("1 Kudos")).to_be_visible()
    take_back = post.get_by_role("button", name="Take back kudos")
    expect(take_back).to_be_visible()

    take_back.click()
    expect(post.get_by_text("0 Kudos")).to_be_visible()
    expect(post.get_by_role("button", name="Give kudos")).to_be_visible()


def test_an_author_edits_their_post_and_it_shows_edited(page: Page):
    register(page, new_person("writer"))
    start_thread(page, "How long is a review period?", "Two weks?")
    post = post_article(page, 1, 1)
    expect(post.get_by_text(re.compile(r"^Edited "))).to_have_count(0)

    post.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Message").fill("Two weeks?")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    post = post_article(page, 1, 1)
    expect(post.locator(".post-body")).to_have_text("Two weeks?")
    expect(post.get_by_text(re.compile(r"^Edited "))).to_be_visible()


def test_a_misspelt_search_shows_the_corrected_results_and_offers_the_words_as_typed(
    page: Page, forum
):
    page.goto("/")
    search_box = banner(page).get_by_role("search").get_by_label("Search the community")
    search_box.fill("intervew")
    search_box.press("Enter")

    spelling = page.locator(".spelling")
    expect(spelling).to_have_text(
        re.compile(r"^Showing results for interview\.\s+Search instead for intervew$")
    )
    expect(page.get_by_role("heading", name=DEMO_SUBJECT)).to_be_visible()
    screenshot(page, forum, "search")

    spelling.get_by_role("link", name="intervew").click()
    expect(page).to_have_url(re.compile(r"[?&]literal=1"))
    expect(page.get_by_label("Search the community")).to_have_value("intervew")
    expect(page.get_by_text("Showing results for")).to_have_count(0)
    expect(page.get_by_text("0 threads found")).to_be_visible()


def test_a_phrase_search_leads_to_the_post_that_has_the_phrase(page: Page):
    page.goto("/")
    search_box = banner(page).get_by_role("search").get_by_label("Search the community")
    search_box.fill('"video chat"')
    banner(page).get_by_role("button", name="Search").click()

    page.get_by_role("heading", name=DEMO_SUBJECT).get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"#p5$"))
    post = post_article(page, 5, 6)
    expect(post.locator(".post-body")).to_contain_text("video chat")
    expect(post).to_be_in_viewport()


def test_the_demo_thread_numbers_its_posts_one_to_six(page: Page, forum):
    open_demo_thread(page)

    for position in range(1, 7):
        expect(post_article(page, position, 6).locator(".post-position")).to_have_text(
            f"{position} of 6"
        )
    screenshot(page, forum, "thread")


def test_an_authors_name_on_a_post_leads_to_their_profile(page: Page, forum):
    open_demo_thread(page)

    post_article(page, 2, 6).get_by_role("link", name="John K").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("John K @john-k")
    expect(page.get_by_text("Member Since: Feb 17, 2015")).to_be_visible()
    expect(page.get_by_text("Community Guru", exact=True)).to_be_visible()
    screenshot(page, forum, "profile")
