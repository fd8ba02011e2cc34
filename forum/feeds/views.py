"""Feed, sitemap and robots.txt views: find the subject, ask the service, answer conditionally."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from werkzeug.http import is_resource_modified

from forum import lookups
from forum.feeds import atom, services
from forum.links import site_url

bp = Blueprint("feeds", __name__)
ATOM = "application/atom+xml"


def _atom(feed: services.Feed):
    """The feed, or 304 when the reader's copy (If-None-Match / If-Modified-Since) is current:
    the ETag is taken from the loaded entries, so an unchanged feed is never written out."""
    response = current_app.response_class(mimetype=ATOM)
    response.set_etag(feed.etag)
    response.last_modified = feed.updated
    response.cache_control.no_cache = True  # readers may keep it, but ask again: removals count
    if not is_resource_modified(request.environ, etag=feed.etag, last_modified=feed.updated):
        response.status_code = 304
        return response
    response.set_data(atom.render(feed))
    return response


@bp.get("/latest/feed.atom")
def latest():
    return _atom(services.latest_feed())


@bp.get("/b/<slug>/feed.atom")
def board(slug: str):
    board = lookups.board_by_slug(slug)
    if board is None:
        moved = lookups.board_once_at(slug) or abort(404)
        return redirect(url_for("feeds.board", slug=moved.slug), 301)
    return _atom(services.board_feed(board))


@bp.get("/t/<int:thread_id>/feed.atom")
def thread(thread_id: int):
    return _atom(services.thread_feed(thread_id) or abort(404))


@bp.get("/members/<handle>/feed.atom")
def member(handle: str):
    return _atom(services.member_feed(lookups.member_by_handle(handle) or abort(404)))


def _xml(template: str, **context):
    return render_template(template, **context), {"Content-Type": "application/xml; charset=utf-8"}


@bp.get("/sitemap.xml")
def sitemap():
    return _xml("feeds/sitemap_index.xml", sitemaps=services.sitemap_files())


@bp.get("/sitemaps/pages.xml")
def sitemap_pages():
    return _xml("feeds/sitemap.xml", urls=services.sitemap_pages())


@bp.get("/sitemaps/threads-<int:number>.xml")
def sitemap_threads(number: int):
    urls = services.sitemap_threads(number) if number >= 1 else []
    return _xml("feeds/sitemap.xml", urls=urls or abort(404))


@bp.get("/robots.txt")
def robots():
    text = render_template("feeds/robots.txt", sitemap=site_url("feeds.sitemap"))
    return text, {"Content-Type": "text/plain; charset=utf-8"}
