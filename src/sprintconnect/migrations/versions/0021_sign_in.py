"""Sign-in: per-organization identity providers, login states, browser sessions, identities.

``identity_providers`` holds one OIDC provider per organization (the client secret lives in the
secret store; the row keeps only its path). ``login_states`` holds a sign-in in flight (state
and browser binding as digests, nonce, PKCE verifier: server-side only). ``browser_sessions``
holds sessions when they are kept in PostgreSQL (the token as a digest; the provider's refresh
and ID tokens sealed with AES-GCM). ``user_identities`` links (org, issuer, subject) to a user
and remembers which roles its group mapping granted.

SECURITY DEFINER functions find what must be found before the tenant is known, and reveal no
more than that: an organization by slug (with whether it has a provider), a login state by
digest (taken: deleted as it is read, so that a state is used once), a session by digest, and
the enabled providers of an issuer (for access tokens from an organization's provider).

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all, execute_only_by, org_fk

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = ("identity_providers", "login_states", "browser_sessions", "user_identities")
FUNCTIONS = (
    "sc_sign_in_org(text)",
    "sc_login_state_take(bytea)",
    "sc_session_lookup(bytea)",
    "sc_providers_by_issuer(text)",
)


def _ts(name: str, *, now: bool = False, required: bool = False) -> sa.Column[object]:
    if now:
        return sa.Column(
            name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    return sa.Column(name, sa.DateTime(timezone=True), nullable=not required)


def _user_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], ondelete="CASCADE", name=f"fk_{table}_user_id_users"
    )


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    text_array = pg.ARRAY(sa.Text)
    op.create_table(
        "identity_providers",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("client_secret_ref", sa.String(255)),
        sa.Column("scopes", text_array, nullable=False),
        sa.Column("allowed_email_domains", text_array, nullable=False),
        sa.Column("claim_name", sa.String(100), nullable=False, server_default="name"),
        sa.Column("claim_email", sa.String(100), nullable=False, server_default="email"),
        sa.Column("claim_groups", sa.String(100), nullable=False, server_default="groups"),
        sa.Column("group_roles", pg.JSONB, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("access_token_audience", sa.String(500)),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        _ts("updated_at", now=True),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_providers"),
        sa.UniqueConstraint("org_id", name="uq_identity_providers_org_id"),
        org_fk("identity_providers"),
    )
    op.create_index("ix_identity_providers_issuer", "identity_providers", ["issuer"])
    op.create_table(
        "login_states",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("state_digest", sa.LargeBinary, nullable=False),
        sa.Column("binding_digest", sa.LargeBinary, nullable=False),
        sa.Column("nonce", sa.String(100), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("return_to", sa.Text, nullable=False),
        sa.Column("max_age", sa.Integer),
        _ts("expires_at", required=True),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name="pk_login_states"),
        sa.UniqueConstraint("state_digest", name="uq_login_states_state_digest"),
        org_fk("login_states"),
    )
    op.create_index("ix_login_states_org_expiry", "login_states", ["org_id", "expires_at"])
    op.create_table(
        "browser_sessions",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("token_digest", sa.LargeBinary, nullable=False),
        sa.Column("issuer", sa.Text, nullable=False),
        _ts("created_at", now=True),
        _ts("authenticated_at", required=True),
        _ts("last_seen_at", required=True),
        _ts("expires_at", required=True),
        sa.Column("acr", sa.String(200)),
        sa.Column("amr", text_array, nullable=False, server_default="{}"),
        sa.Column("refresh_sealed", sa.LargeBinary),
        sa.Column("id_token_sealed", sa.LargeBinary),
        _ts("access_expires_at"),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(512)),
        _ts("ended_at"),
        sa.PrimaryKeyConstraint("id", name="pk_browser_sessions"),
        sa.UniqueConstraint("token_digest", name="uq_browser_sessions_token_digest"),
        org_fk("browser_sessions"),
        _user_fk("browser_sessions"),
    )
    op.create_index("ix_browser_sessions_user", "browser_sessions", ["org_id", "user_id"])
    op.create_table(
        "user_identities",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("issuer", sa.Text, nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("mapped_roles", text_array, nullable=False, server_default="{}"),
        _ts("last_sign_in_at"),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name="pk_user_identities"),
        sa.UniqueConstraint("org_id", "issuer", "subject", name="uq_user_identities_subject"),
        org_fk("user_identities"),
        _user_fk("user_identities"),
    )
    op.create_index("ix_user_identities_user", "user_identities", ["org_id", "user_id"])

    role = app_role()
    statements: list[str] = []
    for table in TABLES:
        statements += tenant_isolation(table)
    statements += [
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {', '.join(TABLES)} TO {role}",
        # The owner reads across tenants only through the functions below.
        "CREATE POLICY definer_sign_in ON identity_providers FOR SELECT TO CURRENT_USER "
        "USING (true)",
        "CREATE POLICY definer_sign_in ON login_states FOR SELECT TO CURRENT_USER USING (true)",
        "CREATE POLICY definer_sign_in_take ON login_states FOR DELETE TO CURRENT_USER "
        "USING (true)",
        "CREATE POLICY definer_sign_in ON browser_sessions FOR SELECT TO CURRENT_USER USING (true)",
        """
        CREATE FUNCTION sc_sign_in_org(p_slug text)
        RETURNS TABLE (org_id uuid, provider_enabled boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT o.id, p.enabled FROM organizations o
              LEFT JOIN identity_providers p ON p.org_id = o.id
              WHERE o.slug = lower(p_slug) $$
        """,
        """
        CREATE FUNCTION sc_login_state_take(p_digest bytea)
        RETURNS SETOF login_states
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ DELETE FROM login_states WHERE state_digest = p_digest RETURNING * $$
        """,
        """
        CREATE FUNCTION sc_session_lookup(p_digest bytea)
        RETURNS SETOF browser_sessions
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT * FROM browser_sessions WHERE token_digest = p_digest $$
        """,
        """
        CREATE FUNCTION sc_providers_by_issuer(p_issuer text)
        RETURNS TABLE (org_id uuid, client_id text, access_token_audience text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT org_id, client_id::text, access_token_audience::text FROM identity_providers
              WHERE issuer = p_issuer AND enabled ORDER BY org_id LIMIT 50 $$
        """,
    ]
    statements += execute_only_by(role, FUNCTIONS)
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    statements = [f"REVOKE ALL ON {', '.join(TABLES)} FROM {role}"]
    statements += [f"DROP FUNCTION IF EXISTS {function}" for function in FUNCTIONS]
    statements += [
        "DROP POLICY IF EXISTS definer_sign_in ON browser_sessions",
        "DROP POLICY IF EXISTS definer_sign_in_take ON login_states",
        "DROP POLICY IF EXISTS definer_sign_in ON login_states",
        "DROP POLICY IF EXISTS definer_sign_in ON identity_providers",
    ]
    for table in TABLES:
        statements += drop_tenant_isolation(table)
    execute_all(statements)
    op.drop_index("ix_user_identities_user", table_name="user_identities")
    op.drop_index("ix_browser_sessions_user", table_name="browser_sessions")
    op.drop_index("ix_login_states_org_expiry", table_name="login_states")
    op.drop_index("ix_identity_providers_issuer", table_name="identity_providers")
    for table in reversed(TABLES):
        op.drop_table(table)
