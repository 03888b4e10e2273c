"""What the README and the guides show matches what the code does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from sprintconnect.audit.tags import AuditTag
from tests.conftest import Tenant

ROOT = Path(__file__).resolve().parent.parent
ME_EXAMPLE = re.compile(r"api/v1/me\n```\n\n```json\n(.*?)```", re.DOTALL)
TAG = re.compile(r"`((?:org|platform):[a-z_]+:[a-z_]+)`")


def documented_me_examples() -> list[dict[str, object]]:
    examples: list[dict[str, object]] = []
    for name in ("README.md", "docs/user-guide.md"):
        text = (ROOT / name).read_text()
        found = ME_EXAMPLE.findall(text)
        assert found, f"{name} shows no /me example"
        examples.extend(json.loads(block) for block in found)
    return examples


async def test_the_me_examples_show_every_field_of_the_answer(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    real = (await client.get("/api/v1/me", headers=tenant.headers)).json()
    for example in documented_me_examples():
        assert set(example) == set(real)


def test_every_audit_tag_in_the_operator_guide_exists() -> None:
    text = (ROOT / "docs/operator-guide.md").read_text()
    section = text.split("## Audit log", 1)[1].split("\n## ", 1)[0]
    documented = set(TAG.findall(section))
    assert "org:member:added" in documented
    assert documented <= {tag.value for tag in AuditTag}, documented - set(AuditTag)
