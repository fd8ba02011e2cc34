"""URLs for threads and posts, shared by every blueprint that links to a post."""

from __future__ import annotations

from urllib.parse import urlsplit

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
    return post_url_for_position(thread or post.thread, post.position)


def post_url_for_position(thread: Thread, position: int) -> str:
    page = page_of(position, current_app.config["POSTS_PER_PAGE"])
    return thread_url(thread, page) + f"#p{position}"


def site_url(endpoint: str, anchor: str | None = None, **values) -> str:
    """An absolute URL under FORUM_BASE_URL, built without a request (workers, e-mail)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{anchor}" if anchor else url


def site_post_url(thread_id: int, slug: str, position: int) -> str:
    """post_url_for_position as an absolute URL under FORUM_BASE_URL (feeds, sitemaps)."""
    page = page_of(position, current_app.config["POSTS_PER_PAGE"])
    return site_url(
        "threads.thread",
        anchor=f"p{position}",
        thread_id=thread_id,
        slug=slug,
        page=page if page > 1 else None,
    )
