"""Contexts a test left pushed: Flask's own suite fails such tests, and so does ours (STYLE.md)."""

from __future__ import annotations

from flask import has_app_context, has_request_context
from flask.globals import app_ctx, request_ctx


def pop_leaked_contexts() -> list[str]:
    """Pop every request and app context still pushed, innermost first; describe each one."""
    leaked = []
    while has_request_context():
        leaked.append(f"request context for {request_ctx.request.url}")
        request_ctx.pop()
    while has_app_context():
        leaked.append(f"app context of {app_ctx.app.name}")
        app_ctx.pop()
    return leaked
