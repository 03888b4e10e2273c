"""The per-organization cap on outbound work: in memory, and shared through a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from sprintconnect.kit.outbound import (
    MemoryOutboundLimiter,
    OutboundBusy,
    OutboundLimiter,
    RedisOutboundLimiter,
)

LIMIT = 2
Factory = Callable[..., OutboundLimiter]


@pytest.fixture(params=["memory", "redis"])
async def make_limiter(
    request: pytest.FixtureRequest, redis_url: str | None
) -> AsyncIterator[Factory]:
    """A factory of limiters; with Redis, each one is like another process on the same Redis."""
    if request.param == "redis" and redis_url is None:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"sc:test-outbound:{uuid.uuid4().hex}:"
    made: list[OutboundLimiter] = []
    shared = MemoryOutboundLimiter(LIMIT)

    def make(grace: float = 30.0) -> OutboundLimiter:
        if redis_url is None or request.param == "memory":
            return shared
        limiter = RedisOutboundLimiter(redis_url, LIMIT, prefix=prefix, grace=grace)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.close()


async def test_the_cap_refuses_beyond_the_limit_per_org(make_limiter: Factory) -> None:
    first, second = make_limiter(), make_limiter()
    org, other = uuid.uuid4(), uuid.uuid4()
    async with first.slot(org, seconds=5), second.slot(org, seconds=5):
        with pytest.raises(OutboundBusy) as refused:
            async with first.slot(org, seconds=5):
                pass
        assert refused.value.status == 429
        assert 1 <= int(refused.value.headers["Retry-After"]) <= 5
        assert refused.value.extra == {
            "retry_after": int(refused.value.headers["Retry-After"]),
            "limit": LIMIT,
        }
        async with second.slot(other, seconds=5):  # another organization is not affected
            pass
    # Given back: the organization has its slots again.
    async with first.slot(org, seconds=5), second.slot(org, seconds=5):
        pass


async def test_a_cancelled_holder_gives_its_slot_back(make_limiter: Factory) -> None:
    limiter = make_limiter()
    org = uuid.uuid4()
    held: list[None] = []
    all_held = asyncio.Event()

    async def hold() -> None:
        async with limiter.slot(org, seconds=5):
            held.append(None)
            if len(held) == LIMIT:
                all_held.set()
            await asyncio.Event().wait()

    tasks = [asyncio.create_task(hold()) for _ in range(LIMIT)]
    await all_held.wait()
    with pytest.raises(OutboundBusy):
        async with limiter.slot(org, seconds=5):
            pass
    for task in tasks:
        task.cancel()
    for task in tasks:
        with pytest.raises(asyncio.CancelledError):
            await task
    async with limiter.slot(org, seconds=5):
        pass


async def test_a_slot_leaked_by_a_dead_process_expires(redis_url: str | None) -> None:
    if redis_url is None:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    limiter = RedisOutboundLimiter(redis_url, 1, prefix=f"sc:test-outbound:{uuid.uuid4().hex}:")
    org = uuid.uuid4()
    try:
        # What a process that died while holding a slot leaves behind: a claim with a lease
        # (here 0.2 s) that nobody gives back.
        claimed = await limiter._acquire(keys=[limiter.key(org)], args=[1, "dead-process", 200])
        assert int(claimed) == -1
        with pytest.raises(OutboundBusy):
            async with limiter.slot(org, seconds=5):
                pass
        await asyncio.sleep(0.3)  # the lease has ended
        async with limiter.slot(org, seconds=5):
            # The set itself expires too, once its longest lease has.
            assert 0 < await limiter.client.pttl(limiter.key(org)) <= 35_000
    finally:
        await limiter.close()


async def test_without_redis_the_process_keeps_its_own_cap() -> None:
    limiter = RedisOutboundLimiter("redis://127.0.0.1:1/0", 1)
    org = uuid.uuid4()
    try:
        async with limiter.slot(org, seconds=5):
            with pytest.raises(OutboundBusy):
                async with limiter.slot(org, seconds=5):
                    pass
        async with limiter.slot(org, seconds=5):
            pass
    finally:
        await limiter.close()
