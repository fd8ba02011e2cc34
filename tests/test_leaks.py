"""The leak detector finds what a test left pushed."""

from __future__ import annotations

from flask import has_app_context

from tests.leaks import pop_leaked_contexts


def test_a_pushed_request_context_is_found_and_popped_with_its_app_context(app):
    app.test_request_context("/boards").push()
    assert pop_leaked_contexts() == ["request context for http://localhost/boards"]
    assert not has_app_context()


def test_a_pushed_app_context_is_found_and_popped(app):
    app.app_context().push()
    assert pop_leaked_contexts() == [f"app context of {app.name}"]
    assert not has_app_context()


def test_nothing_is_found_when_a_test_tidies_up(app):
    with app.app_context():
        pass
    assert pop_leaked_contexts() == []
