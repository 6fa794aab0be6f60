from __future__ import annotations

import itertools

import httpx

from saaslens.http.ratelimit import RateLimitHeaders, RateLimitPacer, retry_after_seconds
from tests.unit.fake_clock import FakeClock


def response(limit: int, remaining: int, reset: float) -> httpx.Response:
    return httpx.Response(
        200,
        headers={
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(remaining),
            "X-Rate-Limit-Reset": str(int(reset)),
        },
    )


def test_no_delay_while_plenty_of_budget():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    pacer.observe("/users", response(600, 590, clock.now + 60))
    assert pacer.delay_for("/users") == 0


def test_paces_before_the_limit_spreading_remaining_over_window():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    pacer.observe("/logs", response(100, 21, clock.now + 30))
    delay = pacer.delay_for("/logs")
    # 21 left, reserve 2: about 30 s / 19 requests
    assert 1.3 < delay < 1.8


def test_waits_for_reset_when_only_reserve_left():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    pacer.observe("/logs", response(100, 1, clock.now + 12))
    pacer.before_request("/logs")
    assert 12 <= clock.slept[0] <= 12.3


def test_buckets_are_independent_and_expire():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    pacer.observe("/logs", response(100, 1, clock.now + 12))
    assert pacer.delay_for("/users") == 0
    clock.now += 13
    assert pacer.delay_for("/logs") == 0


def test_out_of_order_responses_keep_smallest_remaining():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    reset = clock.now + 60
    pacer.observe("b", response(100, 10, reset))
    pacer.observe("b", response(100, 40, reset))  # an older response arriving late
    assert pacer.delay_for("b") > 0


def test_booking_slows_concurrent_callers_without_new_headers():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    pacer.observe("b", response(100, 50, clock.now + 60))
    delays = [pacer.delay_for("b") for _ in range(5)]
    assert delays[0] == 0 and delays[-1] > 0


def test_retry_after_parsing():
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "3"}), None, 0) == 3
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": date}), None, 1445412470) == 10
    github = RateLimitHeaders("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
    r = httpx.Response(
        403, headers={"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1000"}
    )
    assert retry_after_seconds(r, github, 990) == 10
    assert retry_after_seconds(httpx.Response(429), None, 0) is None


def test_when_only_the_reserve_is_left_every_caller_waits_for_the_reset():
    """Not just the first: the others must not fire into the spent window."""
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    pacer.observe("b", response(100, 2, clock.now + 8))
    assert all(7.9 < pacer.delay_for("b") < 8.3 for _ in range(5))


def test_concurrent_callers_get_evenly_spaced_slots_that_end_before_the_reset():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    pacer.observe("b", response(100, 12, clock.now + 10))  # 10 usable after the reserve of 2
    delays = [pacer.delay_for("b") for _ in range(10)]
    gaps = [b - a for a, b in itertools.pairwise(delays)]
    assert delays == sorted(delays) and min(gaps) > 0.5
    assert delays[-1] < 10  # the whole budget is used inside this window
    assert pacer.delay_for("b") >= 10  # the eleventh waits for the reset


def test_requests_on_their_way_count_against_the_budget_until_answered():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    reset = clock.now + 30
    pacer.observe("b", response(100, 3, reset))  # one request above the reserve of 2
    pacer.before_request("b")  # booked and on its way, not yet in the server's figure
    assert pacer.delay_for("b") >= reset - clock.now  # so nothing is left for a second one
    pacer.abandon("b")  # it failed without a response: the budget is back
    assert pacer.delay_for("b") < reset - clock.now


def test_a_slot_whose_budget_others_spent_waits_for_the_reset_instead_of_a_429():
    clock = FakeClock()
    pacer = RateLimitPacer(RateLimitHeaders(), clock=clock, sleep=clock.sleep)
    reset = clock.now + 20
    pacer.observe("b", response(100, 10, reset))
    original_sleep = clock.sleep

    def sleep_while_another_process_spends_the_budget(seconds: float) -> None:
        original_sleep(seconds)
        if clock.now < reset:
            pacer.observe("b", response(100, 1, reset))  # learned from a neighbour's response

    pacer._sleep = sleep_while_another_process_spends_the_budget
    pacer.before_request("b")
    assert clock.now >= reset  # it did not go inside the spent window
    assert pacer.total_wait >= 20 - 1
