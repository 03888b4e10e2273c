"""Background jobs: procrastinate on PostgreSQL, a transactional outbox, and the worker."""
