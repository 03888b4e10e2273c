"""A database error in the logs names the statement and the constraint, never the values."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy.exc import IntegrityError

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.logging import configure_logging
from sprintconnect.models import Role
from sprintconnect.role.repository import RoleRepository
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """The production logging set-up for one test, written to a buffer, put back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("info", "json")
    buffer = io.StringIO()
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


async def _duplicate_role(runtime: Runtime, tenant: Tenant, name: str, note: str) -> IntegrityError:
    """Insert the same role name twice: a unique violation whose DETAIL quotes the name."""
    for attempt in range(2):
        try:
            async with runtime.db.sessionmaker() as session, session.begin():
                await bind_tenant(session, tenant.org_id)
                await RoleRepository(session).add(
                    Role(
                        org_id=tenant.org_id,
                        name=name,
                        description=f"{note}-{attempt}",
                        permissions=["servers:read"],
                        extends=[],
                    )
                )
        except IntegrityError as error:
            return error
    raise AssertionError("the second insert should have failed")


async def test_db_errors_are_logged_without_parameter_values(
    runtime: Runtime, tenant: Tenant, json_logs: io.StringIO
) -> None:
    name = f"leaky-name-{uuid.uuid4().hex[:8]}"
    note = f"leaky-note-{uuid.uuid4().hex[:8]}"
    error = await _duplicate_role(runtime, tenant, name, note)
    # The engine hides parameters from the exception's own text.
    assert note not in str(error)
    try:
        raise error
    except IntegrityError:
        structlog.get_logger("tests").exception("db.failed")
        # A standard-library logger, as uvicorn's is under `serve` (log_config=None).
        logging.getLogger("tests.stdlib").exception("Exception in ASGI application")
    logged = json_logs.getvalue()
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    assert [line["event"] for line in lines] == ["db.failed", "Exception in ASGI application"]
    for line in lines:
        rendered = line["exception"]
        # What an operator needs: the kind of failure, the constraint and the statement.
        assert "UniqueViolation" in rendered
        assert "23505" in rendered
        assert "INSERT INTO roles" in rendered
        assert "uq_roles" in rendered or "roles_org_id_name" in rendered, rendered
    # What nobody may read there: the values, from the parameters or PostgreSQL's DETAIL.
    assert name not in logged
    assert note not in logged
    assert str(tenant.org_id) not in logged
