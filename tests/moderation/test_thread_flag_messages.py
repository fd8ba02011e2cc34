"""What a moderator is told after locking or pinning a thread reads as English."""

from __future__ import annotations

import pytest

from tests.builders import make_thread
from tests.pages import login, post_form


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("lock", "Thread locked."),
        ("unlock", "Thread unlocked."),
        ("pin", "Thread pinned."),
        ("unpin", "Thread unpinned."),
    ],
)
def test_each_thread_flag_says_what_it_did(app, client, member, moderator, board, action, message):
    thread_id = make_thread(app, member, board, subject="Flags")
    login(client, "maude")
    response = post_form(client, f"/moderation/threads/{thread_id}/{action}")
    assert response.headers["Location"] == f"/t/{thread_id}-flags"
    assert message in client.get(response.headers["Location"]).get_data(as_text=True)
