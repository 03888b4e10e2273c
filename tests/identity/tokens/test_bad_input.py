"""Garbage at the OAuth endpoints gets a 4xx answer in the documented form, never a 5xx."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import Tenant

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BODIES = [
    b"",
    b"grant_type",
    b"grant_type=",
    b"grant_type=client_credentials&client_id=",
    b"grant_type=client_credentials&client_id=sa_x&client_secret=",
    b"grant_type=authorization_code&client_id=sprintconnect-cli&code=" + b"A" * 5000,
    b"grant_type=refresh_token&client_id=sprintconnect-cli&refresh_token=scr_%00%ff",
    b"grant_type=refresh_token&client_id=sprintconnect-cli",
    b"token=" + b"e30." * 200,
    b"token=eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
    b"token=sc_abcdefghijkl_" + b"a" * 43,
    b"token=scr_" + b"z" * 43,
    b"%ZZ=%ZZ",
    b"\xff\xfe",
    b"&".join(b"k%d=v" % i for i in range(100)),
]
AUTHS = [
    None,
    "Basic !!!",
    "Basic " + base64.b64encode(b"no-colon").decode(),
    "Basic " + base64.b64encode(b"\xff:\xfe").decode(),
    "Basic " + base64.b64encode(b"sprintconnect-cli:secret").decode(),
    "Bearer x.y.z",
    "DPoP " + "a" * 50,
]


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
async def test_garbage_is_never_a_server_error(
    tclient: httpx.AsyncClient, tenant: Tenant, path: str
) -> None:
    for body in BODIES:
        for auth in AUTHS:
            headers = dict(FORM)
            if auth is not None:
                headers["Authorization"] = auth
            answer = await tclient.post(path, content=body, headers=headers)
            assert 200 <= answer.status_code < 500, (path, body[:40], auth, answer.text)
            if answer.status_code >= 400:
                kind = answer.headers["content-type"]
                assert kind.startswith(("application/json", "application/problem+json"))
    dpop = await tclient.post(
        path,
        content=b"grant_type=client_credentials&token=x",
        headers={**FORM, "DPoP": "x.y.z", "X-Client-Cert": "%%%"},
    )
    assert 400 <= dpop.status_code < 500


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"client_id": "sprintconnect-cli"},
        {"client_id": "sprintconnect-cli", "redirect_uri": "http://127.0.0.1:1/callback"},
        {
            "client_id": "sprintconnect-cli",
            "redirect_uri": "http://127.0.0.1:1/callback",
            "response_type": "code",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "dpop_jkt": "not a thumbprint",
        },
        {
            "client_id": "sprintconnect-cli",
            "redirect_uri": "http://127.0.0.1:1/callback",
            "response_type": "code",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "scope": "nope",
        },
        {"client_id": "x" * 65},
        {"unknown": "1"},
    ],
)
async def test_authorize_garbage(tclient: httpx.AsyncClient, query: dict[str, str]) -> None:
    answer = await tclient.get("/oauth/authorize", params=query)
    assert answer.status_code in (302, 400, 422), answer.text
    if answer.status_code == 302:
        assert "error=" in answer.headers["location"]
