"""/docs and /redoc load only assets of our own origin, which this process serves; / links."""

from __future__ import annotations

import re

import httpx
import pytest

REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")


def references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCES.findall(html)]


@pytest.mark.parametrize(
    ("page", "asset"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc")]
)
async def test_docs_pages_load_only_our_own_assets(
    client: httpx.AsyncClient, page: str, asset: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = references(response.text)
    assert any(asset in url for url in urls), urls
    for url in urls:
        assert url.startswith("/"), f"{page} references another origin: {url}"
        assert not url.startswith("//"), url
        fetched = await client.get(url)
        assert fetched.status_code == 200, url
        assert fetched.content
    assert "cdn." not in response.text
    assert "fonts.googleapis" not in response.text


async def test_the_root_points_to_the_docs(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    links = response.json()
    assert links["docs"] == "/docs"
    assert links["redoc"] == "/redoc"
    assert links["openapi"] == "/openapi.json"
    for name in ("docs", "redoc", "openapi", "health", "ready"):
        assert (await client.get(links[name])).status_code == 200, name
