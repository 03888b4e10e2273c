"""Fixtures of the Redis tests."""

from tests.redis.server import own_redis  # noqa: F401 - a fixture
