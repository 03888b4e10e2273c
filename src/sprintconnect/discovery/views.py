"""How a discovery is shown: the row's fields, its id as ``discovery_id``, guidance, estimate."""

from __future__ import annotations

from sprintconnect.discovery.schemas import DiscoveryOut
from sprintconnect.discovery.service import DiscoveryView


def discovery_out(view: DiscoveryView) -> DiscoveryOut:
    d = view.discovery
    return DiscoveryOut.model_validate(
        {
            **{
                field: getattr(d, field) for field in DiscoveryOut.model_fields if hasattr(d, field)
            },
            "discovery_id": d.id,
            "guidance": view.guidance,
            "estimated_completion_at": view.estimated_completion_at,
        }
    )
