"""Marshmallow schemas: they validate the API's requests, shape its answers, and generate the
OpenAPI document (/api/v1/openapi.json) - one description, so the document cannot drift."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from forum.threads.services import MAX_SUBJECT

Str, Int, Bool, DateTime = fields.String, fields.Integer, fields.Boolean, fields.DateTime


class ProblemSchema(Schema):
    """RFC 9457 problem details, the body of every error (application/problem+json)."""

    type = Str(metadata={"description": "about:blank: the title is the status's phrase"})
    title = Str()
    status = Int()
    detail = Str(metadata={"description": "what went wrong, in the words the site shows"})
    errors = fields.Dict(
        keys=Str(),
        values=fields.List(Str()),
        metadata={"description": "422: the messages for each field"},
    )


class BoardSchema(Schema):
    id = Int()
    slug = Str()
    name = Str()
    description = Str()
    thread_count = Int()
    post_count = Int()
    threads = Str(metadata={"description": "URL of the board's threads"})


class BoardListSchema(Schema):
    boards = fields.List(fields.Nested(BoardSchema))


class MemberRefSchema(Schema):
    handle = Str()
    display_name = Str()


class ThreadSummarySchema(Schema):
    id = Int()
    subject = Str()
    board = Str(metadata={"description": "the board's slug"})
    author = fields.Nested(MemberRefSchema)
    post_count = Int()
    reply_count = Int()
    is_solved = Bool()
    is_locked = Bool()
    is_pinned = Bool()
    last_posted_at = DateTime()
    created_at = DateTime()
    url = Str(metadata={"description": "the thread's page on the site"})
    api_url = Str()


class ThreadPageSchema(Schema):
    threads = fields.List(fields.Nested(ThreadSummarySchema))
    next = Str(
        allow_none=True,
        metadata={"description": "the next page's URL (an opaque cursor), null on the last"},
    )


class AfterArgs(Schema):
    after = Str(metadata={"description": "a cursor from a `next` link"})


class PageArgs(Schema):
    page = Int(load_default=1, validate=validate.Range(1, 1_000_000))


class AuthorSchema(Schema):
    handle = Str()
    display_name = Str()
    rank = Str(allow_none=True)
    featured_badge = Str(allow_none=True)
    title = Str(metadata={"description": "what the site shows under the name: badge, else rank"})


class HeldSchema(Schema):
    """A new member's submission waiting for a moderator: no thread or post exists yet."""

    held_id = Int()
    status = Str(metadata={"description": "'pending' until a moderator approves or rejects it"})
    message = Str()
    url = Str(metadata={"description": "the page where its author sees it awaiting review"})


class PostSchema(Schema):
    id = Int()
    thread_id = Int()
    position = Int(metadata={"description": "N in 'N of M' (the opening post is 1)"})
    of = Int(metadata={"description": "M in 'N of M': the thread's posts, removed ones too"})
    subject = Str()
    body_html = Str(allow_none=True, metadata={"description": "sanitised HTML; null when removed"})
    is_removed = Bool()
    placeholder = Str(allow_none=True)
    created_at = DateTime()
    edited_at = DateTime(allow_none=True)
    author = fields.Nested(AuthorSchema)
    kudos = Int()
    is_solution = Bool()
    url = Str()


class ThreadSchema(ThreadSummarySchema):
    page = Int()
    pages = Int()
    solution_post_id = Int(allow_none=True)
    posts = fields.List(fields.Nested(PostSchema))
    next = Str(allow_none=True)


class BadgeSchema(Schema):
    name = Str()
    granted_at = DateTime()


class ProfileSchema(Schema):
    handle = Str()
    display_name = Str()
    member_since = fields.Date()
    rank = Str(allow_none=True)
    featured_badge = Str(allow_none=True)
    post_count = Int()
    kudos_received = Int()
    solution_count = Int()
    signature_html = Str()
    badges = fields.List(fields.Nested(BadgeSchema))
    url = Str()


class SearchArgs(Schema):
    q = Str(load_default="")
    page = Int(load_default=1, validate=validate.Range(1, 1000))
    sort = Str(load_default="relevance", validate=validate.OneOf(["relevance", "date"]))
    literal = Str(validate=validate.OneOf(["0", "1"]))


class SearchHitSchema(Schema):
    thread_id = Int()
    post_id = Int()
    position = Int()
    post_count = Int()
    subject = Str()
    board = Str()
    author = Str()
    author_name = Str()
    posted_at = Str()
    solved = Bool()
    snippet = Str()
    score = fields.Float()
    url = Str()


class SearchSchema(Schema):
    query = Str()
    corrected_query = Str(allow_none=True)
    suggestion = Str(allow_none=True)
    total = Int()
    page = Int()
    pages = Int()
    per_page = Int()
    any_word = Bool()
    index_missing = Bool()
    index_unreadable = Bool()
    index_behind = Bool()
    notes = fields.List(Str())
    results = fields.List(fields.Nested(SearchHitSchema))


class NewThreadSchema(Schema):
    board = Str(required=True, metadata={"description": "the board's slug"})
    subject = Str(required=True, validate=validate.Length(1, MAX_SUBJECT))
    body = Str(required=True)


class ReplySchema(Schema):
    body = Str(required=True)


class EditSchema(Schema):
    body = Str(required=True)
    subject = Str(
        validate=validate.Length(1, MAX_SUBJECT),
        metadata={"description": "the thread's subject; only on the opening post"},
    )


class SolutionSchema(Schema):
    post_id = Int(
        required=True, allow_none=True, metadata={"description": "a reply's id; null clears it"}
    )


class WatchSchema(Schema):
    level = Str(load_default="watching", validate=validate.OneOf(["watching", "muted"]))


class KudosSchema(Schema):
    post_id = Int()
    kudos = Int()
    given = Bool(metadata={"description": "whether the caller's kudos is on the post now"})


class WatchStateSchema(Schema):
    thread_id = Int()
    level = Str(allow_none=True)


class SolutionStateSchema(Schema):
    thread_id = Int()
    solution_post_id = Int(allow_none=True)
