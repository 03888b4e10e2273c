"""One span and one counter increment per guard decision."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from prometheus_client import Counter

from sprintconnect.egress._errors import EgressDenied

DECISIONS = Counter(
    "sprintconnect_egress_decisions",
    "Egress guard decisions, by outcome and the reason for a denial.",
    ["decision", "reason"],
)

_tracer = trace.get_tracer(__name__)


@contextmanager
def decision(stage: str, **attributes: str | int) -> Iterator[trace.Span]:
    """Record the block as one decision: allowed if it returns, denied if it raises EgressDenied."""
    with _tracer.start_as_current_span(
        f"egress.{stage}", record_exception=False, set_status_on_exception=False
    ) as span:
        span.set_attribute("egress.stage", stage)
        for key, value in attributes.items():
            span.set_attribute(f"egress.{key}", value)
        try:
            yield span
        except EgressDenied as exc:
            # A refusal is the guard working, not a fault: no error status, just the reason.
            span.set_attribute("egress.decision", "deny")
            span.set_attribute("egress.reason", exc.reason)
            DECISIONS.labels(decision="deny", reason=exc.reason).inc()
            raise
        span.set_attribute("egress.decision", "allow")
        DECISIONS.labels(decision="allow", reason="allowed").inc()
