"""Forged webhooks per address: past the limit within a minute the address is slowed for a
while; other addresses are not, and memory stays bounded."""

from __future__ import annotations

from bot.admission import Penalties, address_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_address_is_slowed_after_too_many_failures_in_a_minute_and_then_released():
    clock = Clock()
    penalties = Penalties(failures=3, window=60, penalty=30, clock=clock)
    assert [penalties.failed("192.0.2.1") for _ in range(3)] == [False, False, True]
    assert penalties.slowed_for("192.0.2.1") == 30
    assert penalties.slowed_for("192.0.2.2") == 0
    clock.now += 29
    assert penalties.slowed_for("192.0.2.1") == 1
    clock.now += 1
    assert penalties.slowed_for("192.0.2.1") == 0


def test_failures_spread_over_more_than_a_minute_do_not_slow_an_address():
    clock = Clock()
    penalties = Penalties(failures=3, window=60, clock=clock)
    for _ in range(10):
        assert not penalties.failed("192.0.2.1")
        clock.now += 31
    assert penalties.slowed_for("192.0.2.1") == 0


def test_a_flood_that_goes_on_is_slowed_again_and_logged_once_per_penalty():
    clock = Clock()
    penalties = Penalties(failures=2, window=60, penalty=30, clock=clock)
    started = [penalties.failed("192.0.2.1") for _ in range(5)]
    assert started == [False, True, False, False, False]
    clock.now += 30
    assert penalties.failed("192.0.2.1")  # the minute's count is still over the limit
    assert penalties.slowed_for("192.0.2.1") == 30


def test_only_the_most_recently_refused_addresses_are_remembered():
    penalties = Penalties(failures=1, capacity=100, clock=Clock())
    for n in range(1000):
        penalties.failed(f"10.0.{n // 256}.{n % 256}")
    assert len(penalties) == 100
    assert penalties.slowed_for("10.0.3.231") > 0  # the last one
    assert penalties.slowed_for("10.0.0.0") == 0  # forgotten


def test_an_ipv6_client_is_counted_by_its_64_bit_prefix():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::2")
    assert address_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key(None) == ""
