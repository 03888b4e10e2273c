"""``sprintconnect tokens ...`` (the group the main CLI registers): list, rotate, withdraw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sprintconnect.identity.tokens.cli import register
from sprintconnect.runtime import Runtime
from tests.integration.processes import cli_env


def test_rotate_list_and_withdraw(
    runtime: Runtime, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in cli_env(tmp_path, database_url).items():
        if name.startswith("SPRINTCONNECT_"):
            monkeypatch.setenv(name, value)
    assert runtime.settings.database_url  # migrated by the fixture
    group = typer.Typer()
    register(group)
    runner = CliRunner()

    rotated = runner.invoke(group, ["rotate-key", "--now"])
    assert rotated.exit_code == 0, rotated.output
    kid = json.loads(rotated.output)["kid"]
    listed = runner.invoke(group, ["keys"])
    assert listed.exit_code == 0, listed.output
    assert kid in {k["kid"] for k in json.loads(listed.output)}

    withdrawn = runner.invoke(group, ["withdraw-key", kid])
    assert withdrawn.exit_code == 0, withdrawn.output
    after = json.loads(runner.invoke(group, ["keys"]).output)
    assert kid not in {k["kid"] for k in after}
    assert after  # a new key signs from now on
    assert runner.invoke(group, ["withdraw-key", kid]).exit_code == 1
