"""Sequencing: contiguous leaves in order, never a skipped entry, safe when run at once."""

from __future__ import annotations

import asyncio

from sprintconnect import audit
from sprintconnect.audit import AuditTag
from sprintconnect.audit.ledger import encoding
from sprintconnect.audit.ledger.repository import LedgerRepository
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.principal import Actor
from sprintconnect.kit import merkle
from sprintconnect.runtime import Runtime
from tests.audit.ledger.conftest import leaves_of, sequence_now, write_entries
from tests.conftest import Tenant


async def test_entries_become_contiguous_leaves_in_seq_order(
    runtime: Runtime, tenant: Tenant
) -> None:
    await write_entries(runtime, tenant.org_id, 7)
    first = await sequence_now(runtime, tenant.org_id)
    assert first >= 7
    assert await sequence_now(runtime, tenant.org_id) == 0  # nothing twice
    leaves = await leaves_of(runtime, tenant.org_id)
    assert [leaf["leaf_index"] for leaf in leaves] == list(range(len(leaves)))
    assert [leaf["seq"] for leaf in leaves] == sorted(leaf["seq"] for leaf in leaves)


async def test_the_head_holds_the_root_and_the_chain_of_the_leaves(
    runtime: Runtime, tenant: Tenant
) -> None:
    await write_entries(runtime, tenant.org_id, 5)
    await sequence_now(runtime, tenant.org_id)
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        repo = LedgerRepository(session)
        head = await repo.head(tenant.org_id)
        assert head is not None
        hashes = [h async for h in repo.leaf_hashes(tenant.org_id, head.tree_size)]
        chain = None
        for leaf in hashes:
            chain = encoding.chain_hash(chain, leaf)
    assert len(hashes) == head.tree_size
    assert merkle.Frontier.from_hashes(head.tree_size, head.frontier).root() == merkle.root(hashes)
    assert head.chain_hash == chain


async def test_an_entry_committed_late_with_a_lower_seq_is_sequenced_not_skipped(
    runtime: Runtime, tenant: Tenant
) -> None:
    await sequence_now(runtime, tenant.org_id)
    async with runtime.db.sessionmaker() as slow:
        await slow.begin()
        await bind_tenant(slow, tenant.org_id)
        await audit.record(
            slow, AuditTag.ROLE_CREATED, org_id=tenant.org_id, actor=Actor("system", "slow")
        )
        # A later entry commits first and is sequenced while the slow one is in flight.
        await write_entries(runtime, tenant.org_id, 2)
        await sequence_now(runtime, tenant.org_id)
        before = await leaves_of(runtime, tenant.org_id)
        await slow.commit()
    await sequence_now(runtime, tenant.org_id)
    after = await leaves_of(runtime, tenant.org_id)
    assert len(after) == len(before) + 1
    late = after[-1]
    assert late["seq"] < before[-1]["seq"]  # lower seq, appended after: not skipped
    assert [leaf["leaf_index"] for leaf in after] == list(range(len(after)))


async def test_sequencers_running_at_once_sequence_each_entry_once(
    runtime: Runtime, tenant: Tenant
) -> None:
    for _ in range(3):
        await write_entries(runtime, tenant.org_id, 20)
        await asyncio.gather(*(sequence_now(runtime, tenant.org_id) for _ in range(4)))
    leaves = await leaves_of(runtime, tenant.org_id)
    assert len({leaf["event_id"] for leaf in leaves}) == len(leaves) >= 64
    assert [leaf["leaf_index"] for leaf in leaves] == list(range(len(leaves)))


async def test_each_organization_has_its_own_tree(
    runtime: Runtime, tenant: Tenant, make_tenant: object
) -> None:
    other = await make_tenant()  # type: ignore[operator]
    await write_entries(runtime, tenant.org_id, 3)
    await write_entries(runtime, other.org_id, 2)
    await sequence_now(runtime, tenant.org_id)
    await sequence_now(runtime, other.org_id)
    mine = await leaves_of(runtime, tenant.org_id)
    theirs = await leaves_of(runtime, other.org_id)
    assert mine[0]["leaf_index"] == theirs[0]["leaf_index"] == 0
    assert not {m["event_id"] for m in mine} & {t["event_id"] for t in theirs}


async def test_entries_not_yet_sequenced_are_pending_not_problems(
    runtime: Runtime, tenant: Tenant
) -> None:
    from tests.audit.ledger.conftest import verify_now

    await sequence_now(runtime, tenant.org_id)
    await write_entries(runtime, tenant.org_id, 3)
    report = await verify_now(runtime, tenant.org_id)
    assert report.intact
    assert report.pending == 3
    await sequence_now(runtime, tenant.org_id)
    assert (await verify_now(runtime, tenant.org_id)).pending == 0
