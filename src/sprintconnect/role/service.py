"""Custom roles and role assignments, with the grant limit and the last-admin guard."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.authz.permissions import (
    BUILT_IN_ROLE_DESCRIPTIONS,
    BUILT_IN_ROLES,
    RESERVED_ROLE_NAMES,
)
from sprintconnect.authz.service import hide_unless_readable
from sprintconnect.errors import (
    Conflict,
    InvalidCursor,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.pagination import cut, decode_key, encode_key
from sprintconnect.models import Role
from sprintconnect.role import graph
from sprintconnect.role.repository import AssignmentRepository, RoleRepository
from sprintconnect.role.schemas import RoleCreate, RoleOut, RoleUpdate


class RoleNotFound(NotFound):
    slug = "role-not-found"
    title = "Role not found"


class RoleExists(Conflict):
    slug = "role-exists"
    title = "A role with this name already exists"


class RoleInUse(Conflict):
    slug = "role-in-use"
    title = "The role is still assigned or extended"


class BuiltInRoleImmutable(Conflict):
    slug = "built-in-role"
    title = "Built-in roles cannot be changed or deleted"


class RoleCycle(ValidationFailed):
    slug = "role-cycle"
    title = "Role inheritance would form a cycle"
    default_loc = ("body", "extends")


class GrantAboveGranter(PermissionDenied):
    slug = "grant-above-granter"
    title = "You cannot grant permissions you do not hold"

    def __init__(self, role: str, missing: list[str]) -> None:
        super().__init__(
            f"Role '{role}' grants {', '.join(missing)}, which you do not hold.",
            missing_permissions=missing,
        )


class LastAdmin(Conflict):
    slug = "last-admin"
    title = "The organization would have no admin left"


def _sort_key(name: str) -> tuple[int, int, str]:
    builtin = list(BUILT_IN_ROLES)
    return (0, builtin.index(name), "") if name in BUILT_IN_ROLES else (1, 0, name)


def _role_key(cursor: str) -> tuple[int, int, str]:
    group, index, name = decode_key(cursor, 3)
    if not (isinstance(group, int) and isinstance(index, int) and isinstance(name, str)):
        raise InvalidCursor()
    return group, index, name


class RoleService:
    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.roles = RoleRepository(session)
        self.assignments = AssignmentRepository(session)

    async def _graph(self) -> dict[str, graph.RoleNode]:
        custom = await self.roles.custom(self.org_id)
        return graph.nodes(
            [graph.RoleNode(r.name, frozenset(r.permissions), tuple(r.extends)) for r in custom]
        )

    def _view(self, roles: dict[str, graph.RoleNode], name: str, row: Role | None) -> RoleOut:
        node = roles[name]
        return RoleOut(
            name=name,
            description=row.description if row else BUILT_IN_ROLE_DESCRIPTIONS.get(name),
            built_in=row is None,
            permissions=sorted(node.permissions),
            extends=list(node.extends),
            effective_permissions=sorted(graph.effective(roles, name)),
        )

    async def all_roles(self) -> list[RoleOut]:
        roles = await self._graph()
        rows = {r.name: r for r in await self.roles.custom(self.org_id)}
        return [self._view(roles, name, rows.get(name)) for name in [*BUILT_IN_ROLES, *rows]]

    async def page(self, *, cursor: str | None, limit: int) -> tuple[list[RoleOut], str | None]:
        """Built-in roles in their fixed order, then custom roles by name.

        Every role is loaded anyway (effective permissions need the whole graph), so the page
        is cut here; the cursor is the last role's sort key, so a role deleted meanwhile does
        not shift the next page.
        """
        after = _role_key(cursor) if cursor else None
        ordered = [r for r in await self.all_roles() if after is None or _sort_key(r.name) > after]
        return cut(ordered, limit, lambda role: encode_key(*_sort_key(role.name)))

    async def get(self, name: str) -> RoleOut:
        roles = await self._graph()
        if name not in roles:
            raise RoleNotFound(f"No role is named '{name}' in this organization.")
        return self._view(roles, name, await self.roles.get(self.org_id, name))

    async def require_grantable(self, name: str) -> None:
        """Raise unless the caller holds every permission the role grants."""
        roles = await self._graph()
        not_found = RoleNotFound(f"No role is named '{name}' in this organization.")
        if name not in roles:
            raise not_found
        missing = sorted(graph.effective(roles, name) - self.principal.permissions)
        if missing:
            if name not in BUILT_IN_ROLES:  # built-in roles are public; custom ones are not
                hide_unless_readable(self.principal, "roles:read", not_found)
            raise GrantAboveGranter(name, missing)

    def _check_shape(self, roles: dict[str, graph.RoleNode], node: graph.RoleNode) -> None:
        unknown = [p for p in node.extends if p not in roles and p != node.name]
        if unknown:
            raise ValidationFailed(
                f"Unknown roles to extend: {', '.join(unknown)}.", loc=("body", "extends")
            )
        cycle = graph.find_cycle({**roles, node.name: node}, node.name)
        if cycle:
            raise RoleCycle(f"Inheritance would loop: {' -> '.join(cycle)}.", cycle=cycle)
        missing = sorted(
            graph.effective({**roles, node.name: node}, node.name) - self.principal.permissions
        )
        if missing:
            raise GrantAboveGranter(node.name, missing)

    async def create(self, data: RoleCreate) -> RoleOut:
        if data.name in RESERVED_ROLE_NAMES:
            raise RoleExists(f"'{data.name}' is a built-in role name.")
        roles = await self._graph()
        if data.name in roles:
            raise RoleExists(f"A role named '{data.name}' already exists.")
        node = graph.RoleNode(data.name, frozenset(data.permissions), tuple(data.extends))
        self._check_shape(roles, node)
        row = await self.roles.add(
            Role(
                org_id=self.org_id,
                name=data.name,
                description=data.description,
                permissions=data.permissions,
                extends=data.extends,
            )
        )
        await self._audit(audit.AuditTag.ROLE_CREATED, data.name, data.model_dump())
        return self._view({**roles, data.name: node}, data.name, row)

    async def update(self, name: str, data: RoleUpdate, now: datetime) -> RoleOut:
        row = await self._custom_row(name)
        roles = await self._graph()
        node = graph.RoleNode(
            name,
            frozenset(data.permissions if data.permissions is not None else row.permissions),
            tuple(data.extends if data.extends is not None else row.extends),
        )
        self._check_shape(roles, node)
        changes = data.model_dump(exclude_unset=True)
        for field, value in changes.items():
            setattr(row, field, value)
        row.updated_at = now
        await self.session.flush()
        await self._audit(audit.AuditTag.ROLE_UPDATED, name, changes)
        return self._view({**roles, name: node}, name, row)

    async def delete(self, name: str) -> None:
        row = await self._custom_row(name)
        holders = await self.assignments.holder_count(self.org_id, name)
        dependents = [r.name for r in await self.roles.custom(self.org_id) if name in r.extends]
        if holders or dependents:
            raise RoleInUse(
                f"Role '{name}' is held by {holders} member(s) and extended by "
                f"{', '.join(dependents) or 'no role'}; remove those first.",
                holders=holders,
                extended_by=dependents,
            )
        await self.roles.remove(row)
        await self._audit(audit.AuditTag.ROLE_DELETED, name, {})

    async def assign(self, user_id: UUID, name: str) -> None:
        await self.require_grantable(name)
        if await self.assignments.holds(self.org_id, user_id, name):
            return
        await self.assignments.add(self.org_id, user_id, name, self.principal.user_id)
        await self._audit(
            audit.AuditTag.ROLE_ASSIGNED, name, {"user_id": str(user_id)}, user=user_id
        )

    async def unassign(self, user_id: UUID, name: str) -> None:
        if not await self.assignments.holds(self.org_id, user_id, name):
            return
        # Taking a role away is as powerful as giving it: the same limit applies.
        await self.require_grantable(name)
        await self.guard_last_admin(user_id, name)
        await self.assignments.remove(self.org_id, user_id, name)
        await self._audit(
            audit.AuditTag.ROLE_UNASSIGNED, name, {"user_id": str(user_id)}, user=user_id
        )

    async def guard_last_admin(self, user_id: UUID, name: str = "admin") -> None:
        if name != "admin" or not await self.assignments.holds(self.org_id, user_id, "admin"):
            return
        # Two admins removing each other at once must not both pass the count.
        await self.assignments.lock_admins(self.org_id)
        if await self.assignments.holder_count(self.org_id, "admin") <= 1:
            raise LastAdmin("Assign 'admin' to another member first.")

    async def _custom_row(self, name: str) -> Role:
        if name in RESERVED_ROLE_NAMES:
            raise BuiltInRoleImmutable(f"'{name}' is built in; create a custom role instead.")
        row = await self.roles.get(self.org_id, name)
        if row is None:
            raise RoleNotFound(f"No role is named '{name}' in this organization.")
        return row

    async def _audit(
        self,
        tag: audit.AuditTag,
        role: str,
        details: dict[str, object],
        *,
        user: UUID | None = None,
    ) -> None:
        await audit.record(
            self.session,
            tag,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("user", user) if user else audit.Target("role", role),
            details={"role": role, **details},
        )
