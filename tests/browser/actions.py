"""What a person does in the browser (register, log in, ask, reply) and what they see."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.builders import DEFAULT_PASSWORD
from tests.smtp import Inbox, text_part

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "build" / "screenshots"
# seconds: the jobs worker (mail, search index) is another process and polls its queue with back-off
WORKER_TIMEOUT = 60
MODERATOR_HANDLE = "maude"
MODERATOR_NAME = "Maude M"
DEMO_BOARD = "Freelancers"
DEMO_SUBJECT = "What does interview mean on Upwork?"


@dataclass(frozen=True)
class Forum:
    """A running forum: where it answers and what it runs on."""

    base_url: str
    database: str  # "sqlite" or "postgresql", for file names and messages
    inbox: Inbox  # what the forum e-mailed (the session's SMTP server; addresses are unique)


@dataclass(frozen=True)
class Person:
    """A member as the browser knows them: what they type to log in and what the pages show."""

    handle: str
    display_name: str
    password: str = DEFAULT_PASSWORD

    @property
    def email(self) -> str:
        return f"{self.handle}@example.com"


MODERATOR = Person(MODERATOR_HANDLE, MODERATOR_NAME)


def new_person(prefix: str) -> Person:
    """A member nobody has registered yet (the server lives for the session; names must not clash)."""
    tag = uuid.uuid4().hex[:6]
    return Person(f"{prefix}-{tag}", f"{prefix.title()} {tag.upper()}")


def banner(page: Page) -> Locator:
    return page.get_by_role("banner")


def register(page: Page, person: Person) -> None:
    """Register through the form, starting from the home page; ends logged in."""
    page.goto("/")
    banner(page).get_by_role("link", name="Register").click()
    page.get_by_label("Handle").fill(person.handle)
    page.get_by_label("Display name").fill(person.display_name)
    page.get_by_label("E-mail address").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Create account").click()
    expect(banner(page).get_by_role("link", name=person.display_name)).to_be_visible()


def log_in(page: Page, person: Person, remember: bool = False) -> None:
    """Log in through the header's "Log in" link and the form."""
    page.goto("/")
    banner(page).get_by_role("link", name="Log in").click()
    page.get_by_label("Handle").fill(person.handle)
    page.get_by_label("Password").fill(person.password)
    if remember:
        page.get_by_label("Remember me").check()
    page.get_by_role("button", name="Log in").click()
    expect(banner(page).get_by_role("link", name=person.display_name)).to_be_visible()


def log_out(page: Page) -> None:
    banner(page).get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def open_demo_thread(page: Page) -> None:
    """From the home page through the board list to the demo thread."""
    page.goto("/")
    page.get_by_role("link", name=DEMO_BOARD, exact=True).click()
    page.get_by_role("link", name=DEMO_SUBJECT, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_SUBJECT)


def start_thread(page: Page, subject: str, body: str) -> None:
    """Ask a question on the demo board, as a logged-in member; ends on the new thread."""
    page.goto("/")
    page.get_by_role("link", name=DEMO_BOARD, exact=True).click()
    page.get_by_role("link", name="Ask a question").click()
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill(body)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)


def quick_reply(page: Page, thread_url: str, text: str) -> None:
    """Answer a thread through the form under its posts; ends on the new post."""
    page.goto(thread_url)
    form = page.get_by_role("region", name="Reply to this thread")
    form.get_by_label("Reply", exact=True).fill(text)
    form.get_by_role("button", name="Post reply").click()
    expect(page).to_have_url(re.compile(r"#p\d+$"))


def post_article(page: Page, position: int, of: int) -> Locator:
    """The post "N of M" on the page, found by its accessible name."""
    return page.get_by_role("article", name=re.compile(rf" — {position} of {of}, by "))


def screenshot(page: Page, forum: Forum, name: str) -> Path:
    """A full-page screenshot under build/screenshots/ (git-ignored), to look at after a run."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{forum.database}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def reload_until_visible(page: Page, locator: Locator, timeout: float = WORKER_TIMEOUT) -> None:
    """Reload until the locator shows: what the worker writes appears on the next page load."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator).to_be_visible(timeout=1_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def mail_to(forum: Forum, person: Person, subject: str | re.Pattern) -> str:
    """The text part of the first message to the person with that subject, once it arrived."""
    deadline = time.monotonic() + WORKER_TIMEOUT
    while True:
        for message in forum.inbox.to(person.email):
            if re.fullmatch(subject, message["Subject"]):
                return text_part(message)
        if time.monotonic() > deadline:
            got = [m["Subject"] for m in forum.inbox.to(person.email)]
            raise AssertionError(f"no message “{subject}” to {person.email}; got {got}")
        time.sleep(0.05)  # the SMTP server's inbox, not the page: nothing to auto-wait on


def notification_lines(page: Page) -> Locator:
    return page.locator("ol.notifications > li.notification")
