"""Admission control: requests beyond the slots wait briefly in a bounded line, the rest are
turned away at once."""

from __future__ import annotations

import asyncio

from bot.admission import Admission


def test_past_the_slots_and_the_line_a_request_is_turned_away_at_once():
    async def scenario() -> list[str]:
        # A request in line waits up to an hour: one that returns while the first still holds
        # its slot was turned away without waiting (the 30 s below only bounds a hang).
        admission = Admission(1, line=1, wait=3600.0)
        events: list[str] = []
        release = asyncio.Event()

        async def request(name: str, hold: bool) -> None:
            async with admission.slot() as admitted:
                events.append(f"{name} {'in' if admitted else 'out'}")
                if admitted and hold:
                    await release.wait()

        first = asyncio.create_task(request("first", hold=True))
        await asyncio.sleep(0)
        second = asyncio.create_task(request("second", hold=False))  # waits in line
        await asyncio.sleep(0)
        await asyncio.wait_for(request("third", hold=False), 30)  # the line is full
        release.set()
        await asyncio.gather(first, second)
        return events

    assert asyncio.run(scenario()) == ["first in", "third out", "second in"]


def test_a_request_that_waits_too_long_in_line_is_turned_away():
    async def scenario() -> tuple[int, bool, int]:
        admission = Admission(1, line=5, wait=0.2)
        async with admission.slot():

            async def second() -> bool:
                async with admission.slot() as admitted:
                    return admitted

            waiting = asyncio.create_task(second())
            while not (admission.waiting or waiting.done()):  # it stands in line
                await asyncio.sleep(0)
            in_line = admission.waiting
            # The slot is never freed: the admission's own wait turns it away (the bound only
            # catches a request left waiting for good).
            admitted = await asyncio.wait_for(waiting, 30)
            return in_line, admitted, admission.waiting

    in_line, admitted, left = asyncio.run(scenario())
    assert (in_line, admitted, left) == (1, False, 0)
