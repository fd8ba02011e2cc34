"""Layout in a real browser: every main page fits a 360 px phone, and every form control wears the
site's own style rather than the browser's."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.actions import (
    DEMO_BOARD,
    MODERATOR,
    Forum,
    Person,
    log_in,
    mail_to,
    new_person,
    open_demo_thread,
    post_article,
    register,
    reload_until_visible,
    start_thread,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}  # the narrowest common phone screen, in CSS pixels

# Content that cannot wrap at word boundaries: it must wrap anywhere or scroll in its own box.
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 4
LONG_URL = "https://example.com/" + "a-very-long-path-segment/" * 8 + "?q=" + "x" * 60
LONG_BODY = f"""Zebracorn {LONG_WORD} and more words.

See {LONG_URL} for the details.

```
{"a_very_wide_line_of_code(argument) " * 12}
```

| Column one | Column two | Column three | Column four | Column five | Column six |
|---|---|---|---|---|---|
| {" | ".join(["a cell with several words"] * 6)} |
"""


@dataclass(frozen=True)
class Site:
    """What the layout pages show beyond the demo: long words, URLs, code, a report, a badge."""

    member: Person  # registered, with a long signature; started the long thread
    thread_url: str
    post_id: int  # the long thread's first post, reported by the moderator
    reset_url: str  # the member's password-reset link, from the e-mail
    badge_url: str  # a badge's edit form


@pytest.fixture(scope="module")
def site(chromium: Browser, forum: Forum) -> Site:
    """Once per server: a member posts the long thread, a moderator reports it and makes a badge."""
    context = chromium.new_context(base_url=forum.base_url)
    page = context.new_page()
    member = new_person("wide")
    register(page, member)
    page.goto("/members/settings")
    page.get_by_label("Signature").fill(f"My site: {LONG_URL[:200]}")
    page.get_by_role("button", name="Save settings").click()
    start_thread(page, f"Layout {LONG_WORD[:120]}", LONG_BODY)
    thread_url = page.url
    permalink = post_article(page, 1, 1).get_by_role("heading").get_by_role("link")
    post_id = int(re.search(r"/p/(\d+)", permalink.get_attribute("href")).group(1))

    reset = chromium.new_context(base_url=forum.base_url).new_page()
    reset.goto("/reset-password")
    reset.get_by_label("Your e-mail address").fill(member.email)
    reset.get_by_role("button", name="Send reset link").click()
    expect(reset.get_by_role("status").first).to_contain_text("is on its way")
    reset.context.close()
    mail = mail_to(forum, member, re.compile(r".*password.*", re.IGNORECASE))
    reset_url = re.search(r"https?://\S+/reset-password/\S+", mail).group(0)

    moderator = context.browser.new_context(base_url=forum.base_url).new_page()
    log_in(moderator, MODERATOR)
    moderator.goto(f"/p/{post_id}/report")
    moderator.get_by_label("What is wrong with this post?").fill(f"Too wide: {LONG_WORD}")
    moderator.get_by_role("button", name="Send report").click()
    quick_reply_text = f"A reply so that {member.display_name} has a notification."
    moderator.goto(thread_url)
    moderator.get_by_role("region", name="Reply to this thread").get_by_label(
        "Reply", exact=True
    ).fill(quick_reply_text)
    moderator.get_by_role("button", name="Post reply").click()
    moderator.goto("/moderation/badges/new")
    moderator.get_by_label("Badge name").fill(f"Wide {member.handle[-6:]}")
    moderator.get_by_label("Reason for this change").fill("Layout tests")
    moderator.get_by_role("button", name="Save badge").click()
    moderator.goto("/moderation/badges")
    badge_url = moderator.get_by_role("link", name="Edit").first.get_attribute("href")
    moderator.context.close()
    context.close()
    return Site(member, thread_url, post_id, reset_url, badge_url)


# ---- the pages -----------------------------------------------------------------------------------
# Each opener takes a page in a fresh context and the site's extra content, and ends on its page.


def as_member(path: Callable[[Site], str]) -> Callable[[Page, Site], None]:
    def open_page(page: Page, site: Site) -> None:
        log_in(page, site.member)
        page.goto(path(site))

    return open_page


def as_moderator(path: Callable[[Site], str]) -> Callable[[Page, Site], None]:
    def open_page(page: Page, site: Site) -> None:
        log_in(page, MODERATOR)
        page.goto(path(site))

    return open_page


def anonymous(path: Callable[[Site], str]) -> Callable[[Page, Site], None]:
    def open_page(page: Page, site: Site) -> None:
        page.goto(path(site))

    return open_page


def board(page: Page, site: Site) -> None:
    log_in(page, site.member)
    page.get_by_role("link", name=DEMO_BOARD, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_BOARD)  # measured once there


def demo_thread(page: Page, site: Site) -> None:
    open_demo_thread(page)


def reply_preview(page: Page, site: Site) -> None:
    """Quoting the long post, then previewing it: the preview shows the long content again."""
    log_in(page, site.member)
    page.goto(re.sub(r"/t/(\d+).*", r"/t/\1/reply", site.thread_url) + f"?quote={site.post_id}")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview")).to_be_visible()


def search_corrected(page: Page, site: Site) -> None:
    page.goto("/search?q=intervew")
    expect(page.get_by_text("Showing results for")).to_be_visible()


def search_long(page: Page, site: Site) -> None:
    """A result whose snippet holds the long word."""
    page.goto("/search?q=zebracorn")
    reload_until_visible(page, page.locator(".search-result").first)


def notifications(page: Page, site: Site) -> None:
    log_in(page, site.member)
    page.goto("/notifications")
    reload_until_visible(page, page.locator(".notification").first)


def report_form(page: Page, site: Site) -> None:
    log_in(page, site.member)
    open_demo_thread(page)
    post_article(page, 2, 6).get_by_role("link", name="Report").click()
    expect(page).to_have_url(re.compile(r"/p/\d+/report$"))


PAGES: dict[str, Callable[[Page, Site], None]] = {
    "boards": anonymous(lambda site: "/"),
    "latest": anonymous(lambda site: "/latest"),
    "unanswered": as_member(lambda site: "/unanswered"),
    "unanswered-no-solution": anonymous(lambda site: "/unanswered/no-solution"),
    "board": board,
    "thread-demo": demo_thread,
    "thread-long-moderator": as_moderator(lambda site: site.thread_url),
    "thread-long-anonymous": anonymous(lambda site: site.thread_url),
    "new-thread": as_member(lambda site: "/new"),
    "reply-preview": reply_preview,
    "edit": as_member(lambda site: f"/p/{site.post_id}/edit"),
    "search-empty": anonymous(lambda site: "/search"),
    "search-corrected": search_corrected,
    "search-nothing": anonymous(lambda site: "/search?q=qqxzvv+wwkkjj"),
    "search-long": search_long,
    "profile-own": as_member(lambda site: f"/members/{site.member.handle}"),
    "profile-moderator": as_moderator(lambda site: f"/members/{site.member.handle}"),
    "profile-demo": anonymous(lambda site: "/members/john-k"),
    "settings": as_member(lambda site: "/members/settings"),
    "password": as_member(lambda site: "/settings/password"),
    "email": as_member(lambda site: "/settings/email"),
    "notification-settings": as_member(lambda site: "/notifications/settings"),
    "notifications": notifications,
    "login": anonymous(lambda site: "/login"),
    "register": anonymous(lambda site: "/register"),
    "reset-request": anonymous(lambda site: "/reset-password"),
    "reset-password": anonymous(lambda site: site.reset_url),
    "report": report_form,
    "mod-reports": as_moderator(lambda site: "/moderation/reports"),
    "mod-queue": as_moderator(lambda site: "/moderation/queue"),
    "mod-settings": as_moderator(lambda site: "/moderation/settings"),  # the moderator is an admin
    "mod-audit": as_moderator(lambda site: "/moderation/audit"),
    "mod-remove-spammer": as_moderator(
        lambda site: f"/moderation/members/{site.member.handle}/remove-spammer"
    ),
    "mod-spammers": as_moderator(lambda site: "/moderation/spammers"),
    "mod-registrations": as_moderator(lambda site: "/moderation/registrations"),
    "mod-boards": as_moderator(lambda site: "/moderation/boards"),
    "mod-board-form": as_moderator(lambda site: "/moderation/boards/new"),
    "mod-ranks": as_moderator(lambda site: "/moderation/ranks"),
    "mod-badges": as_moderator(lambda site: "/moderation/badges"),
    "mod-badge-new": as_moderator(lambda site: "/moderation/badges/new"),
    "mod-badge-edit": as_moderator(lambda site: site.badge_url),
    "mod-searches": as_moderator(lambda site: "/moderation/searches"),
}

# What sticks out past the viewport (boxes, or text overflowing its box), innermost first, leaving
# out what scrolls inside its own box: what to fix when a page is too wide.
WIDE_ELEMENTS = """() => {
  const limit = document.documentElement.clientWidth + 0.5;
  const scrolls = e => getComputedStyle(e).overflowX !== "visible";
  const right = e => {
    const box = e.getBoundingClientRect();
    return scrolls(e) ? box.right : Math.max(box.right, box.left + e.scrollWidth);
  };
  const inScroller = e => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (scrolls(a)) return true;
    }
    return false;
  };
  const wide = e => right(e) > limit && !inScroller(e);
  return [...document.querySelectorAll("body *")]
    .filter(e => wide(e) && ![...e.children].some(wide))
    .slice(0, 8)
    .map(e => `${e.tagName.toLowerCase()}${e.className ? "." + e.className : ""}`
              + ` (right edge ${Math.round(right(e))} px)`);
}"""


@pytest.mark.parametrize("open_page", PAGES.values(), ids=PAGES.keys())
def test_page_fits_a_360_px_screen_without_scrolling_sideways(page: Page, site: Site, open_page):
    page.set_viewport_size(PHONE)
    open_page(page, site)
    page.wait_for_load_state("load")  # its stylesheet applied: a page laid out without it is wide

    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("document.documentElement.clientWidth")

    assert width <= viewport, (
        f"{page.url} is {width} px wide on a {viewport} px screen; too wide: "
        + ", ".join(page.evaluate(WIDE_ELEMENTS))
    )


# ---- form controls -------------------------------------------------------------------------------

TEXT_LOOK = [  # what makes a text box look like the site's: its frame, its spacing, its lettering
    *(
        f"border-{side}-{part}"
        for side in ("top", "right", "bottom", "left")
        for part in ("width", "style", "color")
    ),
    "border-top-left-radius",
    *(f"padding-{side}" for side in ("top", "right", "bottom", "left")),
    "font-family",
    "font-size",
    "font-weight",
    "line-height",
    "color",
    "background-color",
    "box-sizing",
]
BUTTON_LOOK = [
    "border-top-width",
    "border-top-left-radius",
    *(f"padding-{side}" for side in ("top", "right", "bottom", "left")),
    "font-family",
    "font-size",
    "font-weight",
    "line-height",
    "cursor",
]
SELECT_LOOK = [p for p in TEXT_LOOK if p != "line-height"]
CHOICE_LOOK = ["accent-color", "width", "height"]
CONTROLS = """(looks) => [...document.querySelectorAll(
    "input:not([type=hidden]), select, textarea, button:not(.link-button), a.button")]
  .filter(e => e.getClientRects().length > 0)
  .map(e => {
    const style = getComputedStyle(e);
    const kind = e.tagName === "INPUT" ? e.type : e.tagName === "A" ? "link-button" : e.tagName.toLowerCase();
    return {
      kind,
      name: e.labels?.[0]?.textContent.trim() || e.getAttribute("aria-label")
        || (e.tagName === "INPUT" && e.value) || e.textContent.trim(),
      look: Object.fromEntries(looks.map(p => [p, style.getPropertyValue(p)])),
      height: e.getBoundingClientRect().height,
    };
  })"""
BUTTON_KINDS = {"submit", "button", "reset", "link-button"}
CHOICE_KINDS = {"checkbox", "radio"}


def controls(page: Page) -> list[dict]:
    """Every visible control on the page: its kind (an input's type, or the tag), name and look."""
    return page.evaluate(CONTROLS, sorted({*TEXT_LOOK, *BUTTON_LOOK, *CHOICE_LOOK}))


def site_looks(page: Page) -> dict:
    """The site's own text box, button and checkbox, as the log-in page draws them."""
    page.goto("/login")
    by_name = {c["name"]: c for c in controls(page)}
    return {
        "text": by_name["Handle"]["look"],
        "text height": by_name["Handle"]["height"],
        "button": by_name["Log in"]["look"],
        "choice": by_name["Remember me"]["look"],
    }


def differences(control: dict, expected: dict[str, str], looks: list[str]) -> list[str]:
    return [
        f"{control['kind']} “{control['name']}”: {p} is {control['look'][p]}, not {expected[p]}"
        for p in looks
        if control["look"][p] != expected[p]
    ]


# Pages with form controls, and the kinds each must show (so the test cannot quietly lose one).
FORMS: dict[str, tuple[Callable[[Page, Site], None], set[str]]] = {
    "register": (PAGES["register"], {"text", "email", "password", "search", "submit"}),
    "login": (PAGES["login"], {"text", "password", "checkbox", "submit"}),
    "new-thread": (PAGES["new-thread"], {"select", "text", "textarea", "submit"}),
    "search": (PAGES["search-corrected"], {"search", "select", "button"}),
    "thread-moderator": (PAGES["thread-long-moderator"], {"select", "textarea", "submit"}),
    "settings": (PAGES["settings"], {"text", "textarea", "select"}),
    "notification-settings": (PAGES["notification-settings"], {"checkbox", "radio"}),
    "profile-moderator": (PAGES["profile-moderator"], {"select", "number", "text"}),
    "mod-ranks": (PAGES["mod-ranks"], {"text", "number"}),
    "mod-badges": (PAGES["mod-badges"], {"text", "link-button"}),
    "mod-badge-new": (
        PAGES["mod-badge-new"],
        {"text", "textarea", "select", "checkbox", "number"},
    ),
}


@pytest.mark.parametrize(("open_page", "kinds"), FORMS.values(), ids=FORMS.keys())
def test_every_form_control_wears_the_sites_text_input_style(
    page: Page, site: Site, open_page, kinds
):
    looks = site_looks(page)
    open_page(page, site)

    found = controls(page)
    problems = []
    for control in found:
        if control["kind"] in BUTTON_KINDS:
            problems += differences(control, looks["button"], BUTTON_LOOK)
        elif control["kind"] in CHOICE_KINDS:
            problems += differences(control, looks["choice"], CHOICE_LOOK)
            if control["look"]["accent-color"] != looks["button"]["background-color"]:
                problems.append(
                    f"{control['kind']} “{control['name']}” is not in the site's accent"
                )
        elif control["kind"] == "select":  # Chromium fixes a select's line-height: match the height
            problems += differences(control, looks["text"], SELECT_LOOK)
            if abs(control["height"] - looks["text height"]) > 0.5:
                problems.append(f"select “{control['name']}” is {control['height']} px high")
        else:
            problems += differences(control, looks["text"], TEXT_LOOK)

    assert kinds <= {c["kind"] for c in found}, (
        f"{page.url} lacks {kinds - {c['kind'] for c in found}}"
    )
    assert not problems, f"on {page.url}:\n  " + "\n  ".join(problems)
