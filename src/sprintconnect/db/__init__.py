"""Database access: engines, sessions, tenant binding, embedded PostgreSQL, migrations."""
