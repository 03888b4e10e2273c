"""Building a ``Principal`` from what authorization read about the caller.

Every credential (API key, browser session, access token) ends here, so that each yields
the same principal for the same roles, scopes and clock: permissions are the scopes bounded
by the user's roles (``effective_permissions``), and the time context is taken in the
organization's time zone (an unusable zone leaves it empty, so every PDP decision denies).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sprintconnect.authz.access import effective_permissions, time_context
from sprintconnect.authz.repository import AccessFacts
from sprintconnect.identity.principal import Credential, Principal


def assemble_principal(
    facts: AccessFacts,
    *,
    now: datetime,
    org_id: UUID,
    user_id: UUID | None,
    scopes: frozenset[str],
    credential: Credential,
    **details: Any,
) -> Principal:
    """The principal of a caller whose roles and organization are ``facts``.

    ``details`` are the credential's own fields of ``Principal`` (``api_key_id``,
    ``session_id``, ``service_account_id``, ``token_id``, ``client_id``, ``auth_time``,
    ``acr``).
    """
    try:
        context = time_context(now, facts.time_zone)
    except Exception:  # an unusable time zone leaves the context incomplete: every PDP denies
        context = {}
    has_user = user_id is not None
    return Principal(
        org_id=org_id,
        scopes=scopes,
        user_id=user_id,
        permissions=effective_permissions(facts, scopes, has_user=has_user),
        roles=facts.expanded_roles if facts.member else frozenset(),
        policy_version=facts.policy_version,
        time_context=context,
        super_admin=facts.super_admin and has_user,
        org_name=facts.org_name,
        org_slug=facts.org_slug,
        user_email=facts.user_email,
        user_name=facts.user_name,
        credential=credential,
        **details,
    )
