"""Unknown query parameters are a 422 naming each one, on every route.

``reject_unknown_query`` is a global dependency (``FastAPI(dependencies=[...])``), so it runs
for every route and before the route's own dependencies. A route declares its query
parameters through its signature and its dependencies (FastAPI keeps them in the route's
dependant), and through the app's global dependencies, which FastAPI applies outside that
dependant; the allowed names are both, computed once per route and app. A parameter every
route takes (none today) is therefore declared by the global dependency that reads it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_parameterless_sub_dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from sprintconnect.errors import FieldError, ValidationFailed

UNKNOWN_MESSAGE = "unknown query parameter"


def _model(annotation: Any) -> type[BaseModel] | None:
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def declared_query_names(*dependants: Dependant) -> frozenset[str]:
    """Every query parameter name (its alias) that ``dependants`` or their dependencies read."""
    names: set[str] = set()
    pending, seen = list(dependants), set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for field in current.query_params:
            model = _model(field.field_info.annotation)
            if model is None:
                names.add(field.alias)
            else:  # a Pydantic model of query parameters: its fields are the names
                names.update(f.alias or name for name, f in model.model_fields.items())
        pending.extend(current.dependencies)
    return frozenset(names)


def _allowed(request: Request, route: APIRoute) -> frozenset[str]:
    """The route's names, with those of the app's global dependencies: FastAPI applies those
    to a route it includes from a router without adding them to the route's own dependant."""
    cache: dict[int, frozenset[str]] | None = getattr(request.app.state, "declared_query", None)
    if cache is None:
        cache = request.app.state.declared_query = {}
    allowed = cache.get(id(route))  # the app holds its routes, so their ids stay theirs
    if allowed is None:
        shared = [
            get_parameterless_sub_dependant(depends=depends, path=route.path_format)
            for depends in request.app.router.dependencies
        ]
        allowed = cache[id(route)] = declared_query_names(route.dependant, *shared)
    return allowed


async def reject_unknown_query(request: Request) -> None:
    """Refuse a query parameter the matched route does not declare (repeats named once)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    allowed = _allowed(request, route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in allowed]
    if unknown:
        raise ValidationFailed(
            f"Unknown query parameters: {', '.join(n[:64] for n in unknown[:5])}"
            f"{' …' if len(unknown) > 5 else ''}. The OpenAPI document lists each route's.",
            errors=[
                FieldError(loc=["query", name], msg=UNKNOWN_MESSAGE, type="unknown_parameter")
                for name in unknown
            ],
        )
