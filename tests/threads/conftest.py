"""The thread the posting, editing and kudos tests work on."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.builders import make_thread


@pytest.fixture
def thread(app: Flask, member: int, board: int) -> int:
    """Alice's thread "How do I start?" with no replies yet."""
    return make_thread(app, member, board)
