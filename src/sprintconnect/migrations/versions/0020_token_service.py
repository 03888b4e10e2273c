"""Token service: signing keys, service accounts, authorization codes, refresh tokens and
revoked access tokens (issue 14).

- ``token_signing_keys``: the platform's ES256 keys for access tokens (not a tenant's table):
  the public JWK, the private key sealed under the master key ring (AES-256-GCM, the key id as
  associated data, as the audit ledger's keys are), when it starts signing (``activates_at``:
  published before that), when it stops (``retires_at``: still published until every token
  it signed has expired) and when it was withdrawn at once (``withdrawn_at``).
- ``service_accounts``: an organization's OAuth clients (client credentials). Each is backed
  by a ``users`` row with a membership and roles here; only an HMAC of the secret is stored.
- ``oauth_authorization_codes``: single-use codes (stored as HMAC digests) of the
  authorization-code grant, bound to client, redirect URI and PKCE challenge.
- ``oauth_refresh_tokens``: refresh tokens as HMAC digests, in families: a rotation marks the
  old one ``rotated_at``; presenting a rotated one revokes its family.
- ``revoked_access_tokens``: the ``jti`` of revoked access tokens until they expire.

SECURITY DEFINER lookups, for what is found before the tenant is known (each reveals ids
only): ``sc_service_account_lookup(client_id)``, ``sc_refresh_token_lookup(digest)``,
``sc_authorization_code_lookup(digest)``, and ``sc_revoked_access_tokens(now)``: the live
revocations of every organization, which each process keeps in memory.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from sprintconnect.db.rls import drop_tenant_isolation, tenant_isolation
from sprintconnect.migrations.helpers import app_role, execute_all, execute_only_by, org_fk

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "service_accounts",
    "oauth_authorization_codes",
    "oauth_refresh_tokens",
    "revoked_access_tokens",
)
FUNCTIONS = (
    "sc_service_account_lookup(text)",
    "sc_refresh_token_lookup(bytea)",
    "sc_authorization_code_lookup(bytea)",
    "sc_revoked_access_tokens(timestamptz)",
)
DEFINER_TABLES = TENANT_TABLES


def _ts(name: str, *, now: bool = False, required: bool = False) -> sa.Column[object]:
    if now:
        return sa.Column(
            name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        )
    return sa.Column(name, sa.DateTime(timezone=True), nullable=not required)


def _user_fk(table: str, column: str = "user_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], ondelete="CASCADE", name=f"fk_{table}_{column}_users"
    )


def _grant_columns() -> list[sa.Column[object]]:
    """What a code and a refresh token both carry: who, which client, what, how bound."""
    uuid = pg.UUID(as_uuid=True)
    return [
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("jkt", sa.String(64)),
        sa.Column("x5t", sa.String(64)),
        _ts("auth_time"),
        sa.Column("acr", sa.String(100)),
        sa.Column("session_id", uuid),
    ]


def upgrade() -> None:
    uuid = pg.UUID(as_uuid=True)
    op.create_table(
        "token_signing_keys",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("public_jwk", pg.JSONB, nullable=False),
        sa.Column("private_nonce", sa.LargeBinary, nullable=False),
        sa.Column("private_sealed", sa.LargeBinary, nullable=False),
        _ts("created_at", now=True),
        _ts("activates_at", required=True),
        _ts("retires_at"),
        _ts("withdrawn_at"),
        sa.PrimaryKeyConstraint("kid", name="pk_token_signing_keys"),
    )
    op.create_table(
        "service_accounts",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("user_id", uuid, nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("secret_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_by_user_id", uuid),
        _ts("secret_rotated_at"),
        _ts("disabled_at"),
        _ts("last_used_at"),
        _ts("updated_at", now=True),
        _ts("created_at", now=True),
        sa.PrimaryKeyConstraint("id", name="pk_service_accounts"),
        sa.UniqueConstraint("client_id", name="uq_service_accounts_client_id"),
        sa.UniqueConstraint("user_id", name="uq_service_accounts_user_id"),
        sa.UniqueConstraint("org_id", "name", name="uq_service_accounts_org_id"),
        org_fk("service_accounts"),
        _user_fk("service_accounts"),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            ondelete="SET NULL",
            name="fk_service_accounts_created_by_user_id_users",
        ),
    )
    op.create_index("ix_service_accounts_org", "service_accounts", ["org_id", "created_at", "id"])
    op.create_table(
        "oauth_authorization_codes",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        *_grant_columns(),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        _ts("created_at", now=True),
        _ts("expires_at", required=True),
        _ts("used_at"),
        sa.Column("family_id", uuid),
        sa.Column("access_jti", sa.String(64)),
        _ts("access_expires_at"),
        sa.PrimaryKeyConstraint("id", name="pk_oauth_authorization_codes"),
        sa.UniqueConstraint("digest", name="uq_oauth_authorization_codes_digest"),
        org_fk("oauth_authorization_codes"),
        _user_fk("oauth_authorization_codes"),
    )
    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("id", uuid, nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        sa.Column("family_id", uuid, nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        *_grant_columns(),
        _ts("created_at", now=True),
        _ts("expires_at", required=True),
        _ts("rotated_at"),
        _ts("revoked_at"),
        sa.Column("revoked_reason", sa.String(40)),
        sa.PrimaryKeyConstraint("id", name="pk_oauth_refresh_tokens"),
        sa.UniqueConstraint("digest", name="uq_oauth_refresh_tokens_digest"),
        org_fk("oauth_refresh_tokens"),
        _user_fk("oauth_refresh_tokens"),
    )
    op.create_index(
        "ix_oauth_refresh_tokens_family", "oauth_refresh_tokens", ["org_id", "family_id"]
    )
    op.create_table(
        "revoked_access_tokens",
        sa.Column("jti", sa.String(64), nullable=False),
        sa.Column("org_id", uuid, nullable=False),
        _ts("expires_at", required=True),
        _ts("revoked_at", now=True),
        sa.PrimaryKeyConstraint("jti", name="pk_revoked_access_tokens"),
        org_fk("revoked_access_tokens"),
    )
    op.create_index("ix_revoked_access_tokens_expires_at", "revoked_access_tokens", ["expires_at"])

    role = app_role()
    statements: list[str] = []
    for table in TENANT_TABLES:
        statements += tenant_isolation(table)
    statements += [
        # Keys are the platform's: created by rotation, retired or withdrawn, never deleted.
        f"GRANT SELECT, INSERT ON token_signing_keys TO {role}",
        f"GRANT UPDATE (retires_at, withdrawn_at) ON token_signing_keys TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON service_accounts TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_authorization_codes TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON oauth_refresh_tokens TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON revoked_access_tokens TO {role}",
    ]
    # The lookups run as the owner, which FORCE'd row-level security fences too.
    statements += [
        f"CREATE POLICY definer_lookup ON {table} FOR SELECT TO CURRENT_USER USING (true)"
        for table in DEFINER_TABLES
    ]
    statements += [
        """
        CREATE FUNCTION sc_service_account_lookup(p_client_id text)
        RETURNS TABLE (account_id uuid, org_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT id, org_id FROM service_accounts WHERE client_id = p_client_id $$
        """,
        """
        CREATE FUNCTION sc_refresh_token_lookup(p_digest bytea)
        RETURNS TABLE (token_id uuid, org_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT id, org_id FROM oauth_refresh_tokens WHERE digest = p_digest $$
        """,
        """
        CREATE FUNCTION sc_authorization_code_lookup(p_digest bytea)
        RETURNS TABLE (code_id uuid, org_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT id, org_id FROM oauth_authorization_codes WHERE digest = p_digest $$
        """,
        """
        CREATE FUNCTION sc_revoked_access_tokens(p_now timestamptz)
        RETURNS TABLE (jti text, expires_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
        AS $$ SELECT jti, expires_at FROM revoked_access_tokens WHERE expires_at > p_now $$
        """,
    ]
    statements += execute_only_by(role, FUNCTIONS)
    execute_all(statements)


def downgrade() -> None:
    role = app_role()
    statements = [f"DROP FUNCTION IF EXISTS {function}" for function in FUNCTIONS]
    statements += [f"DROP POLICY IF EXISTS definer_lookup ON {t}" for t in DEFINER_TABLES]
    statements += [f"REVOKE ALL ON {', '.join(TENANT_TABLES)}, token_signing_keys FROM {role}"]
    execute_all(statements)
    for table in TENANT_TABLES:
        execute_all(drop_tenant_isolation(table))
    op.drop_index("ix_revoked_access_tokens_expires_at", table_name="revoked_access_tokens")
    op.drop_index("ix_oauth_refresh_tokens_family", table_name="oauth_refresh_tokens")
    op.drop_index("ix_service_accounts_org", table_name="service_accounts")
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
    op.drop_table("token_signing_keys")
