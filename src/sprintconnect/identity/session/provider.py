"""An organization's OIDC provider as seen from here: metadata, keys, and its token endpoint.

Every request to the provider goes through the egress guard with the organization's policy
(``policy_for``). Metadata and key sets are cached per process and organization for
``settings.jwks_cache_seconds``; the key set refreshes as ``jose.JwksCache`` says (background
refresh, one rate-limited refetch for an unknown ``kid``).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from ipaddress import ip_network
from typing import Any, Literal
from urllib.parse import quote, urlsplit
from uuid import UUID

import httpx
import structlog

from sprintconnect.config import Settings
from sprintconnect.egress import (
    EgressDenied,
    EgressPolicy,
    build_httpx_client,
    policy_from_settings,
)
from sprintconnect.identity.jose.jwks import JwksCache, fetch_json
from sprintconnect.identity.jose.verify import ALLOWED_ALGORITHMS, TokenRejected

log = structlog.get_logger(__name__)

TIMEOUT_SECONDS = 10.0
SECRET_PATH = "identity-provider/client"  # noqa: S105 - a secret store path
TokenAuthMethod = Literal["client_secret_basic", "client_secret_post"]


def dev_idp_issuer(settings: Settings) -> str:
    """The development provider's issuer (loopback, ``settings.dev_idp_port``)."""
    return f"http://127.0.0.1:{settings.dev_idp_port}"


def policy_for(
    settings: Settings, issuer: str, allowlist: list[str] | None, org_id: UUID
) -> EgressPolicy:
    """The egress policy for calls to ``issuer``'s endpoints on behalf of ``org_id``.

    The development provider is the one exception to the operator's loopback setting: when
    it runs, exactly its issuer may reach exactly 127.0.0.1 (no other loopback address, and
    the organization's allowlist is replaced by that one address).
    """
    policy = policy_from_settings(settings, allowlist or None, org_id=org_id)
    if settings.dev_idp_enabled and issuer == dev_idp_issuer(settings):
        policy = replace(
            policy,
            allow_loopback=True,
            allowlist_hosts=frozenset(),
            allowlist_networks=(ip_network("127.0.0.1/32"),),
        )
    return policy


def issuer_problem(settings: Settings, issuer: str) -> str | None:
    """Why ``issuer`` cannot be an issuer URL, or None."""
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or parts.username or parts.password:
        return "The issuer URL must not carry a query, a fragment or credentials."
    if parts.scheme == "https":
        return None
    loopback_ok = settings.egress_allow_loopback or (
        settings.dev_idp_enabled and issuer == dev_idp_issuer(settings)
    )
    if parts.scheme == "http" and loopback_ok:
        return None
    return "The issuer URL must use https."


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None
    token_auth_method: TokenAuthMethod
    algorithms: frozenset[str]


class ProviderUnavailable(Exception):
    """The provider could not be used; ``message`` is safe to show."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def parse_metadata(issuer: str, document: dict[str, Any]) -> ProviderMetadata:
    """The fields sign-in needs, checked; ProviderUnavailable names what is wrong."""
    if document.get("issuer") != issuer:
        raise ProviderUnavailable(
            "issuer_mismatch",
            "The provider's metadata names another issuer "
            f"({str(document.get('issuer'))[:200]!r}); the issuer URL must be exactly the "
            "provider's 'issuer' value.",
        )
    fields: dict[str, str] = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
            raise ProviderUnavailable(
                "metadata_incomplete", f"The provider's metadata lacks a usable {name}."
            )
        fields[name] = value
    end_session = document.get("end_session_endpoint")
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    method: TokenAuthMethod = (
        "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
    )
    algs = document.get("id_token_signing_alg_values_supported")
    algorithms = (
        ALLOWED_ALGORITHMS & frozenset(a for a in algs if isinstance(a, str))
        if isinstance(algs, list)
        else ALLOWED_ALGORITHMS
    )
    if not algorithms:
        raise ProviderUnavailable(
            "algorithms",
            "The provider signs ID tokens only with algorithms SprintConnect does not accept "
            f"(accepted: {', '.join(sorted(ALLOWED_ALGORITHMS))}).",
        )
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=fields["authorization_endpoint"],
        token_endpoint=fields["token_endpoint"],
        jwks_uri=fields["jwks_uri"],
        end_session_endpoint=end_session if isinstance(end_session, str) else None,
        token_auth_method=method,
        algorithms=algorithms,
    )


async def fetch_metadata(issuer: str, policy: EgressPolicy) -> ProviderMetadata:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        document = await fetch_json(url, policy, timeout=TIMEOUT_SECONDS / 2)
    except TokenRejected as exc:
        raise ProviderUnavailable(
            "metadata_unavailable",
            f"The provider's metadata at {url} could not be read: {exc.description} Check the "
            "issuer URL, that the provider is reachable from SprintConnect, and the "
            "organization's egress allowlist.",
        ) from exc
    return parse_metadata(issuer, document)


class ProviderDirectory:
    """Metadata and key sets of the providers this process talks to, per organization."""

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl = ttl_seconds
        self._metadata: dict[tuple[UUID, str], tuple[ProviderMetadata, float]] = {}
        self._keys: dict[tuple[UUID, str, str], JwksCache] = {}
        self._lock = asyncio.Lock()

    async def metadata(self, org_id: UUID, issuer: str, policy: EgressPolicy) -> ProviderMetadata:
        cached = self._metadata.get((org_id, issuer))
        if cached is not None and time.monotonic() - cached[1] < self.ttl:
            return cached[0]
        metadata = await fetch_metadata(issuer, policy)
        self._metadata[(org_id, issuer)] = (metadata, time.monotonic())
        return metadata

    def keys(self, org_id: UUID, metadata: ProviderMetadata, policy: EgressPolicy) -> JwksCache:
        key = (org_id, metadata.issuer, metadata.jwks_uri)
        cache = self._keys.get(key)
        if cache is None:
            uri = metadata.jwks_uri

            async def fetch() -> dict[str, Any]:
                return await fetch_json(uri, policy, timeout=TIMEOUT_SECONDS / 2)

            cache = self._keys[key] = JwksCache(fetch, ttl_seconds=self.ttl)
        return cache

    async def forget(self, org_id: UUID) -> None:
        """Drop what is cached for ``org_id`` (its provider changed)."""
        for key in [k for k in self._metadata if k[0] == org_id]:
            del self._metadata[key]
        for keys_key in [k for k in self._keys if k[0] == org_id]:
            await self._keys.pop(keys_key).aclose()

    async def aclose(self) -> None:
        for cache in self._keys.values():
            await cache.aclose()
        self._keys.clear()


def directory(state: Any, settings: Settings) -> ProviderDirectory:
    """The process's directory, kept on ``app.state`` (made on first use)."""
    found: ProviderDirectory | None = getattr(state, "provider_directory", None)
    if found is None:
        found = ProviderDirectory(settings.jwks_cache_seconds)
        state.provider_directory = found
    return found


async def token_request(
    metadata: ProviderMetadata,
    policy: EgressPolicy,
    *,
    client_id: str,
    client_secret: str | None,
    form: dict[str, str],
) -> dict[str, Any]:
    """POST ``form`` to the token endpoint with the client's credentials; the JSON answer.

    ProviderUnavailable for an error answer (its ``error`` code, never its body) or when the
    endpoint cannot be reached.
    """
    data = dict(form)
    auth: httpx.Auth | None = None
    basic = metadata.token_auth_method == "client_secret_basic"  # noqa: S105 - a method name
    if client_secret is not None and basic:
        # RFC 6749 section 2.3.1: both are form-encoded before Basic encoding.
        auth = httpx.BasicAuth(quote(client_id, safe=""), quote(client_secret, safe=""))
    else:
        data["client_id"] = client_id
        if client_secret is not None:
            data["client_secret"] = client_secret
    client = build_httpx_client(
        policy,
        timeout=httpx.Timeout(TIMEOUT_SECONDS),
        headers={"accept": "application/json", "user-agent": "SprintConnect"},
        auth=auth,
    )
    try:
        async with client, asyncio.timeout(TIMEOUT_SECONDS * 2):
            response = await client.post(metadata.token_endpoint, data=data)
            body = response.content[:65_536]
    except EgressDenied as exc:
        raise ProviderUnavailable(
            "egress_denied", "The provider's token endpoint address is not allowed."
        ) from exc
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        raise ProviderUnavailable(
            "unreachable", "The provider's token endpoint could not be reached."
        ) from exc
    try:
        answer = httpx.Response(200, content=body).json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ProviderUnavailable("bad_answer", "The provider's token endpoint answered badly.")
    if response.status_code != 200:
        code = str(answer.get("error") or "error")[:64]
        log.warning("sign_in.token_endpoint_error", status=response.status_code, error=code)
        raise ProviderUnavailable(code, f"The provider refused the request ({code}).")
    return answer
