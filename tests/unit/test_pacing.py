"""The outbox's pace, checked where it is decided: a clock the test controls stands in for the
machine's, so a busy machine cannot change what is measured."""

from __future__ import annotations

import asyncio

from bot.outbox import Pacer


class FakeClock:
    """Time that moves only when something sleeps (and, to show load, when the test says)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def paced(rate: float, interval, addresses: list[str], *, lag: float = 0.0):
    clock = FakeClock()
    pacer = Pacer(rate, interval, clock=clock, sleep=clock.sleep)

    async def scenario() -> None:
        for address in addresses:
            await pacer.wait(address)
            clock.now += lag  # the send itself, however slow the machine is

    asyncio.run(scenario())
    return list(pacer.decided)


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)]


def test_one_chat_gets_at_most_one_message_a_second():
    decided = paced(30.0, lambda address: 1.0, ["555001"] * 6)
    assert min(gaps([at for _, at in decided])) >= 1.0


def test_a_group_gets_one_message_every_three_seconds_and_others_are_not_held_up_by_it():
    interval = lambda address: 3.0 if address.startswith("-") else 1.0  # noqa: E731
    decided = paced(30.0, interval, ["-1000", "1", "-1000", "2", "-1000"])
    group = [at for address, at in decided if address == "-1000"]
    assert min(gaps(group)) >= 3.0
    people = [at for address, at in decided if address != "-1000"]
    assert people[0] - decided[0][1] < 1.0  # the person's message did not wait for the group


def test_the_overall_rate_holds_across_chats():
    decided = paced(10.0, lambda address: 0.0, [str(n) for n in range(20)])
    assert min(gaps([at for _, at in decided])) >= 0.1


def test_a_slow_send_never_shortens_the_next_gap_below_the_pace():
    decided = paced(30.0, lambda address: 1.0, ["7"] * 5, lag=0.4)
    assert min(gaps([at for _, at in decided])) >= 1.0


def test_a_pause_asked_for_by_the_provider_is_kept():
    clock = FakeClock()
    pacer = Pacer(30.0, lambda address: 0.0, clock=clock, sleep=clock.sleep)

    async def scenario() -> float:
        await pacer.wait("1")
        pacer.pause(5.0)
        before = clock()
        await pacer.wait("2")
        return clock() - before

    assert asyncio.run(scenario()) >= 5.0
