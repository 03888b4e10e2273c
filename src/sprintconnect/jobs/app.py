"""The procrastinate app, connected as the application role."""

from __future__ import annotations

import procrastinate
from procrastinate import PsycopgConnector

from sprintconnect.audit.ledger.tasks import build_blueprint as audit_ledger_tasks
from sprintconnect.db.engine import Database
from sprintconnect.discovery.tasks import build_blueprint as discovery_tasks
from sprintconnect.gateway.tasks import build_blueprint as gateway_tasks
from sprintconnect.health.tasks import build_blueprint as health_tasks
from sprintconnect.identity.tokens.tasks import build_blueprint as token_tasks
from sprintconnect.notification.tasks import build_blueprint as notification_tasks
from sprintconnect.webhook.tasks import build_blueprint as webhook_tasks

NAMESPACE = "sc"


def conninfo(db: Database) -> str:
    """The application role's URL in libpq form (procrastinate speaks psycopg directly)."""
    return db.app_url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_job_app(db: Database, *, pool_size: int = 4) -> procrastinate.App:
    app = procrastinate.App(
        connector=PsycopgConnector(conninfo=conninfo(db), min_size=1, max_size=pool_size)
    )
    app.add_tasks_from(discovery_tasks(), namespace=NAMESPACE)
    app.add_tasks_from(health_tasks(), namespace=NAMESPACE)
    app.add_tasks_from(notification_tasks(), namespace=NAMESPACE)
    app.add_tasks_from(webhook_tasks(), namespace=NAMESPACE)
    app.add_tasks_from(audit_ledger_tasks(), namespace=NAMESPACE)
    app.add_tasks_from(token_tasks(), namespace=NAMESPACE)
    app.add_tasks_from(gateway_tasks(), namespace=NAMESPACE)
    return app
