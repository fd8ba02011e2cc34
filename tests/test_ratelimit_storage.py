"""The SQLite rate-limit storage under the `limits` strategies Flask-Limiter uses."""

from __future__ import annotations

import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from forum.ratelimit_storage import SCHEME  # importing it registers the scheme with limits


def storage(tmp_path):
    return storage_from_string(f"{SCHEME}://{tmp_path / 'limits.sqlite'}")


def test_a_moving_window_lets_the_limit_through_and_no_more(tmp_path):
    limiter = MovingWindowRateLimiter(storage(tmp_path))
    three_a_minute = parse("3/minute")
    assert [limiter.hit(three_a_minute, "login", "192.0.2.1") for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert limiter.hit(three_a_minute, "login", "192.0.2.2")  # another address, its own count
    stats = limiter.get_window_stats(three_a_minute, "login", "192.0.2.1")
    assert stats.remaining == 0 and time.time() < stats.reset_time <= time.time() + 61


def test_two_storages_on_one_file_share_the_count(tmp_path):
    """What two worker processes do: each opens the file, one count between them."""
    first, second = (MovingWindowRateLimiter(storage(tmp_path)) for _ in range(2))
    two_a_minute = parse("2/minute")
    assert first.hit(two_a_minute, "k") and second.hit(two_a_minute, "k")
    assert not first.hit(two_a_minute, "k") and not second.hit(two_a_minute, "k")


def test_a_moving_window_frees_slots_as_entries_age_out(tmp_path):
    shared = storage(tmp_path)
    limiter = MovingWindowRateLimiter(shared)
    one_a_second = parse("1/second")
    assert limiter.hit(one_a_second, "k")
    assert not limiter.hit(one_a_second, "k")
    start = time.time()
    while not limiter.test(one_a_second, "k"):  # frees itself within the second, no sleep bar
        assert time.time() - start < 5
    assert limiter.hit(one_a_second, "k")


def test_a_fixed_window_counts_and_reports_its_expiry(tmp_path):
    shared = storage(tmp_path)
    limiter = FixedWindowRateLimiter(shared)
    two_an_hour = parse("2/hour")
    assert limiter.hit(two_an_hour, "k") and limiter.hit(two_an_hour, "k")
    assert not limiter.hit(two_an_hour, "k")
    stats = limiter.get_window_stats(two_an_hour, "k")
    assert stats.remaining == 0 and stats.reset_time > time.time() + 3500


def test_clear_and_reset_forget_counts(tmp_path):
    shared = storage(tmp_path)
    limiter = MovingWindowRateLimiter(shared)
    one_a_minute = parse("1/minute")
    assert limiter.hit(one_a_minute, "a") and limiter.hit(one_a_minute, "b")
    limiter.clear(one_a_minute, "a")
    assert limiter.hit(one_a_minute, "a")
    assert shared.reset() == 2
    assert limiter.hit(one_a_minute, "a") and limiter.hit(one_a_minute, "b")
    assert shared.check()
