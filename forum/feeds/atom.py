"""A Feed as Atom 1.0 (RFC 4287), written by feedgenerator (see the README for why that one)."""

from __future__ import annotations

import io

from feedgenerator import Atom1Feed

from forum.feeds.services import Feed


def render(feed: Feed) -> bytes:
    atom = Atom1Feed(
        title=feed.title,
        link=feed.link,
        description=feed.subtitle,
        feed_url=feed.self_link,
        feed_guid=feed.self_link,
        language="en",
    )
    for entry in feed.entries:
        atom.add_item(
            title=entry.title,
            link=entry.link,
            description=None,  # no summary: the content is the whole post
            content=entry.html,
            author_name=entry.author_name,
            author_link=entry.author_link,
            pubdate=entry.published,
            updateddate=entry.updated,
            unique_id=entry.id,
        )
    out = io.StringIO()
    atom.write(out, "utf-8")
    return out.getvalue().encode()
