"""URLs for threads and posts, shared by every blueprint that links to a post."""

from __future__ import annotations

from flask import current_app, url_for

from forum.models import Post, Thread


def page_of(position: int, per_page: int) -> int:
    return (position - 1) // per_page + 1


def thread_url(thread: Thread, page: int = 1) -> str:
    return url_for(
        "threads.thread", thread_id=thread.id, slug=thread.slug, page=page if page > 1 else None
    )


def post_url(post: Post, thread: Thread | None = None) -> str:
    """The permalink target: the page holding the post, anchored on it."""
    thread = thread or post.thread
    page = page_of(post.position, current_app.config["POSTS_PER_PAGE"])
    return thread_url(thread, page) + f"#p{post.position}"
