"""Who calls the OAuth endpoints: form parsing, the public clients and client authentication
(RFC 6749 2.3)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus, urlsplit
from uuid import UUID

import structlog
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.repository import AccessRepository
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.tokens.refusal import throttle_failures
from sprintconnect.identity.tokens.schemas import OAuthError
from sprintconnect.identity.tokens.subject import build_principal
from sprintconnect.models.token import ServiceAccount
from sprintconnect.runtime import Runtime
from sprintconnect.service_account.service import ClientFailure, authenticate_client

log = structlog.get_logger(__name__)

FORM = "application/x-www-form-urlencoded"
MULTI = frozenset({"resource", "audience"})
MAX_FIELDS = 30
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="sprintconnect"'}


@dataclass(frozen=True)
class Form:
    values: dict[str, str]
    lists: dict[str, list[str]]

    def get(self, name: str) -> str | None:
        return self.values.get(name)


async def read_form(request: Request) -> Form:
    """The form parameters; a repeated one (other than ``resource``) is invalid_request."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM:
        raise OAuthError("invalid_request", f"Send the parameters as {FORM}.")
    try:
        body = (await request.body()).decode("utf-8")
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "The form body is not readable.") from exc
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for name, value in pairs:
        if name in MULTI:
            lists.setdefault(name, []).append(value)
            continue
        if name in values:
            raise OAuthError("invalid_request", f"The parameter '{name[:40]}' is repeated.")
        values[name] = value
    return Form(values, lists)


CLI_CLIENT_ID = "sprintconnect-cli"


@dataclass(frozen=True)
class PublicClient:
    client_id: str
    name: str

    def redirect_allowed(self, uri: str) -> bool:
        """RFC 8252 section 7.3: a loopback IP literal with any port, path ``/callback``;
        everything else compared exactly (no userinfo, query or fragment)."""
        if len(uri) > 200:
            return False
        try:
            parts = urlsplit(uri)
            port = parts.port
        except ValueError:
            return False
        return (
            parts.scheme == "http"
            and parts.hostname in ("127.0.0.1", "::1")
            and parts.netloc in (f"127.0.0.1:{port}", f"[::1]:{port}")
            and port is not None
            and port > 0
            and parts.path == "/callback"
            and not parts.query
            and not parts.fragment
            and "#" not in uri
            and "?" not in uri
        )


PUBLIC_CLIENTS = {CLI_CLIENT_ID: PublicClient(CLI_CLIENT_ID, "SprintConnect CLI")}


@dataclass(frozen=True)
class Client:
    client_id: str
    account: ServiceAccount | None = None
    public: PublicClient | None = None


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError(
            "invalid_client",
            "The Basic credentials are malformed.",
            status=401,
            headers=BASIC_CHALLENGE,
        ) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError(
            "invalid_client",
            "The Basic credentials are malformed.",
            status=401,
            headers=BASIC_CHALLENGE,
        )
    return unquote_plus(client_id), unquote_plus(secret)


def uses_basic(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    return header[:6].lower() == "basic "


async def authenticate(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    form: Form,
    *,
    allow_public: bool,
) -> Client | None:
    """The calling client (secret via Basic or the form; a public client by ``client_id``
    alone when ``allow_public``), or None when the request names no client at all."""
    basic = _basic(request)
    secret: str | None
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if basic is not None:
        if form_secret is not None:
            raise OAuthError("invalid_request", "Use one client authentication method only.")
        if form_id is not None and form_id != basic[0]:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials.")
        client_id, secret = basic
    elif form_id is not None:
        client_id, secret = form_id, form_secret
    else:
        return None
    challenge = BASIC_CHALLENGE if basic is not None else {}
    if secret is None:
        public = PUBLIC_CLIENTS.get(client_id)
        if public is None or not allow_public:
            raise OAuthError(
                "invalid_client", "Client authentication failed.", status=401, headers=challenge
            )
        return Client(client_id, public=public)
    if client_id in PUBLIC_CLIENTS:
        raise OAuthError("invalid_client", "A public client has no secret.", status=401)
    await throttle_failures(request)  # 429 once this address has failed too often
    result = await authenticate_client(session, runtime.keyring, client_id, secret)
    if isinstance(result, ClientFailure):
        await _record_failure(request, runtime, result)
        raise OAuthError(
            "invalid_client", "Client authentication failed.", status=401, headers=challenge
        )
    return Client(client_id, account=result)


async def _record_failure(request: Request, runtime: Runtime, failure: ClientFailure) -> None:
    """Log every failure; audit those of a known account, a few per account and minute."""
    log.warning("auth.client.refused", reason=failure.reason, org_id=str(failure.org_id or ""))
    state = request.app.state
    limiter = getattr(state, "auth_failure_limiter", None)
    if limiter is not None and request.client is not None and request.client.host:
        await limiter.allows("address", request.client.host)
    if failure.org_id is None or failure.account_id is None:
        return
    audit_limiter = getattr(state, "failure_audit_limiter", None)
    if audit_limiter is not None and not await audit_limiter.allows(str(failure.account_id)):
        return
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, failure.org_id)
        await audit.record(
            session,
            audit.AuditTag.SERVICE_ACCOUNT_AUTH_FAILED,
            org_id=failure.org_id,
            actor=Actor("anonymous"),
            target=audit.Target("service_account", failure.account_id),
            details={"reason": failure.reason},
        )


async def account_principal(
    runtime: Runtime, session: AsyncSession, account: ServiceAccount
) -> Principal:
    """The principal of a service account that authenticated with its secret."""
    facts = await AccessRepository(session).facts(account.org_id, account.user_id)
    return build_principal(
        runtime,
        facts,
        org_id=account.org_id,
        user_id=account.user_id,
        scopes=frozenset({"admin"}),
        service_account_id=account.id,
        client_id=account.client_id,
    )


def org_of(client: Client) -> UUID | None:
    return client.account.org_id if client.account is not None else None
