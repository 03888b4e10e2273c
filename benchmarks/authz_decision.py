"""One authorization decision and a batch of 100, Cedar versus an always-allow PDP.

Both go through the same ``Authorizer`` (role gate, timeout, decision log to a null stream),
so the ratio is what Cedar itself costs. The dataset is generated here: a member with the
engineer role, 20 organization policies (time windows, tags, environments, obligations),
and servers with realistic attributes.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random

from sprintconnect.authz.cedar import CedarPDP
from sprintconnect.authz.decision import Decision, DecisionRequest, Resource, Subject
from sprintconnect.authz.permissions import BUILT_IN_ROLES
from sprintconnect.authz.service import Authorizer
from sprintconnect.logging import configure_logging

from .stats import summary, time_calls

N_SINGLE = 5000
N_BATCH = 200
ENVIRONMENTS = ("development", "staging", "production")
TAGS = ("public", "internal", "pci", "hipaa", "beta", "payments", "search", "ml")


def org_policies(count: int = 20) -> str:
    """A realistic organization policy set: mostly narrow forbids, a few annotated permits."""
    rules = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            rules.append(
                f'@id("hours-{i}") forbid (principal, action == Action::"servers:write", resource)'
                f" unless {{ context.minute_of_day >= {420 + i} && context.minute_of_day < 1200 }};"
            )
        elif kind == 1:
            rules.append(
                f'@id("tag-{i}") forbid (principal, action, resource is Server) when '
                f'{{ resource.tags.contains("{TAGS[i % len(TAGS)]}-x") }};'
            )
        elif kind == 2:
            rules.append(
                f'@id("weekend-{i}") forbid (principal, action == Action::"servers:write", '
                f"resource) when {{ context.day_of_week > 6 }};"
            )
        else:
            rules.append(
                f'@id("oblig-{i}") @obligation("redact_credentials") permit (principal, action, '
                f'resource is Server) when {{ resource.tags.contains("{TAGS[i % len(TAGS)]}") }};'
            )
    return "\n".join(rules)


def requests(count: int, rng: random.Random) -> list[DecisionRequest]:
    subject = Subject(
        id="3f1c2a9e-0000-4000-8000-000000000001",
        permissions=BUILT_IN_ROLES["engineer"],
        roles=frozenset({"engineer"}),
    )
    made = []
    for i in range(count):
        resource = Resource(
            "Server",
            f"srv-{i}",
            {
                "name": f"srv-{i}",
                "environment": rng.choice(ENVIRONMENTS),
                "tags": rng.sample(TAGS, 3),
            },
        )
        made.append(
            DecisionRequest(
                "org-1",
                7,
                subject,
                "servers:read",
                resource,
                {
                    "minute_of_day": rng.randrange(1440),
                    "day_of_week": rng.randint(1, 7),
                    "time_zone": "Europe/Berlin",
                },
            )
        )
    return made


class AllowAll:
    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        return Decision(allowed=True)

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        return [Decision(allowed=True) for _ in requests]


async def run(n_single: int = N_SINGLE, n_batch: int = N_BATCH) -> None:
    rng = random.Random(7)
    text = org_policies()
    single = requests(1, rng)[0]
    batch = requests(100, rng)
    cedar, baseline = Authorizer(CedarPDP()), Authorizer(AllowAll())
    print(f"  dataset: 20 org policies + 4 base; engineer subject; 100 servers; n={n_single}")
    base_one = summary(
        "always-allow, one decision",
        await time_calls(lambda: baseline.decide(single, text), n=n_single, warmup=500),
    )
    cedar_one = summary(
        "cedar, one decision",
        await time_calls(lambda: cedar.decide(single, text), n=n_single, warmup=500),
    )
    base_many = summary(
        "always-allow, batch of 100 (per batch)",
        await time_calls(lambda: baseline.decide_many(batch, text), n=n_batch, warmup=20),
    )
    cedar_many = summary(
        "cedar, batch of 100 (per batch)",
        await time_calls(lambda: cedar.decide_many(batch, text), n=n_batch, warmup=20),
    )
    raw = CedarPDP()
    summary(
        "cedar engine alone (no log, no gate), one",
        await time_calls(lambda: raw.decide(single, text), n=n_single, warmup=500),
    )
    print(
        f"  ratio cedar/always-allow: one p50 {cedar_one['p50'] / base_one['p50']:.2f}x, "
        f"p99 {cedar_one['p99'] / base_one['p99']:.2f}x; "
        f"batch p50 {cedar_many['p50'] / base_many['p50']:.2f}x, "
        f"p99 {cedar_many['p99'] / base_many['p99']:.2f}x"
    )
    goal = "met" if cedar_one["p99"] < 0.001 else "NOT met"
    print(f"  goal p99 of one decision < 1 ms: {goal} ({cedar_one['p99'] * 1e3:.3f} ms)")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks authz",
        description="The cost of Cedar: one authorization decision and a batch of 100 through "
        "the same Authorizer, against an always-allow decision point. Needs no database.",
        epilog="The ratio cedar/always-allow is the comparable figure; the goal is a p99 under "
        "1 ms for one decision.",
    )
    parser.add_argument(
        "--decisions", type=int, default=N_SINGLE, help=f"single decisions timed ({N_SINGLE})"
    )
    parser.add_argument(
        "--batches", type=int, default=N_BATCH, help=f"batches of 100 timed ({N_BATCH})"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run: 1000 decisions and 40 batches"
    )
    args = parser.parse_args(argv)
    if args.quick:
        parser.set_defaults(decisions=1000, batches=40)
        args = parser.parse_args(argv)
    if min(args.decisions, args.batches) < 1:
        parser.error("every number must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv or [])
    configure_logging("info", "json")
    # Decisions are logged as in production, into a null stream so the terminal stays readable.
    logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115
    asyncio.run(run(args.decisions, args.batches))
