"""Each post's rendered article, cached per worker under the data it was drawn from.

The cache key is the post's page row itself (body, author card, counters, editor) plus what the
page adds (M in "N of M", the solution mark, whether removed text shows, whether "Edited" links to
the history, the viewer's time zone), so a changed post,
kudos, rank, badge or signature is a new key: nothing is invalidated, nothing goes stale, and
several workers need not agree. Only the viewer's buttons are rendered per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Flask, current_app
from markupsafe import Markup

from forum.markup import stored_html
from forum.models.member import initials
from forum.timezones import viewer_zone

ACTIONS = Markup("<!--post-actions-->")


class PostBlocks:
    """A bounded LRU of (head, tail) halves of rendered posts, split where the actions go."""

    def __init__(self, app: Flask, size: int) -> None:
        self._app = app
        self._size = size
        self._cache: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
        self._lock = threading.Lock()  # a gthread worker renders pages in several threads

    def render(
        self,
        row,
        post_count: int,
        is_solution: bool,
        show_text: bool,
        actions: Markup | None,
        history_link: bool = False,
    ) -> Markup:
        """history_link: "Edited ..." links to the edit history (for its author and moderators:
        at most two variants of a post are cached)."""
        key = (row, post_count, is_solution, show_text, history_link, viewer_zone())
        with self._lock:
            halves = self._cache.get(key)
            if halves is not None:
                self._cache.move_to_end(key)
        if halves is None:  # rendered outside the lock: two threads may both render it, once
            macros = self._app.jinja_env.get_template("_macros/posts.html").module
            html = str(
                macros.render_post_block(row, post_count, is_solution, show_text, history_link)
            )
            head, _, tail = html.partition(ACTIONS)
            halves = (head, tail)
            with self._lock:
                self._cache[key] = halves
                if len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        # joined as plain strings: str + Markup would escape the cached (already safe) halves
        return Markup("".join((halves[0], str(actions or ""), halves[1])))


def post_blocks() -> PostBlocks:
    return current_app.extensions["forum_post_blocks"]


def init_app(app: Flask) -> None:
    app.config.setdefault("POST_CACHE_SIZE", 1000)
    app.extensions["forum_post_blocks"] = PostBlocks(app, app.config["POST_CACHE_SIZE"])
    app.jinja_env.globals["ACTIONS"] = ACTIONS
    app.jinja_env.filters["initials"] = initials
    app.jinja_env.filters["stored_html"] = stored_html
