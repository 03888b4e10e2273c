"""Fixtures of the token tests: an app with the token routes on the tests' database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sprintconnect.runtime import Runtime
from tests.identity.tokens.support import TokenApp, TokenAppFactory, token_apps


@pytest.fixture
async def make_token_app(runtime: Runtime, database_url: str) -> AsyncIterator[TokenAppFactory]:
    async for factory in token_apps(runtime, database_url):
        yield factory


@pytest.fixture
async def token_app(make_token_app: TokenAppFactory) -> TokenApp:
    return await make_token_app()


@pytest.fixture
def tclient(token_app: TokenApp) -> httpx.AsyncClient:
    return token_app.client
