"""Recording a discovery's phase beside the listing (``discovery.progress.PhaseWriter``)."""

from __future__ import annotations

import asyncio

import pytest

from sprintconnect.discovery.progress import PhaseWriter


class Recorder:
    """A phase store whose writes wait for ``release``, to hold a write in flight."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.release = asyncio.Event()
        self.fail: set[str] = set()

    async def write(self, phase: str) -> None:
        await self.release.wait()
        if phase in self.fail:
            raise RuntimeError("the database went away")
        self.written.append(phase)


async def test_the_listing_goes_on_while_a_phase_is_written() -> None:
    store = Recorder()
    phases = PhaseWriter(store.write)
    await asyncio.wait_for(phases("listing_tools"), 1)  # returns although the write waits
    assert store.written == []
    store.release.set()
    await phases.flush()
    assert store.written == ["listing_tools"]


async def test_phases_that_arrive_during_a_write_collapse_to_the_latest() -> None:
    store = Recorder()
    phases = PhaseWriter(store.write)
    await phases("listing_tools")
    await asyncio.sleep(0)  # the first write is in flight
    for phase in ("listing_resources", "listing_resource_templates", "listing_prompts"):
        await phases(phase)
    store.release.set()
    await phases.flush()
    assert store.written == ["listing_tools", "listing_prompts"]


async def test_a_failed_write_is_dropped_and_later_phases_still_land() -> None:
    store = Recorder()
    store.fail.add("listing_tools")
    store.release.set()
    phases = PhaseWriter(store.write)
    await phases("listing_tools")
    await phases.flush()
    await phases("listing_prompts")
    await phases.flush()
    assert store.written == ["listing_prompts"]


async def test_close_stops_a_write_in_flight() -> None:
    store = Recorder()
    phases = PhaseWriter(store.write)
    await phases("listing_tools")
    await asyncio.sleep(0)
    await phases.close()
    store.release.set()
    await asyncio.sleep(0)
    assert store.written == []


async def test_flush_without_any_phase_returns_at_once() -> None:
    await asyncio.wait_for(PhaseWriter(Recorder().write).flush(), 1)


@pytest.mark.parametrize("phase", ["", "listing_tools"])
async def test_a_phase_already_written_is_not_written_again(phase: str) -> None:
    store = Recorder()
    store.release.set()
    phases = PhaseWriter(store.write)
    await phases(phase)
    await phases.flush()
    await phases(phase)
    await phases.flush()
    assert store.written == [phase]
