"""Prometheus metrics of health monitoring."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CHECKS = Counter(
    "sprintconnect_health_checks_total",
    "Health checks run, by outcome (healthy, unhealthy) and check type",
    ["outcome", "check_type"],
)
CHECK_SECONDS = Histogram(
    "sprintconnect_health_check_seconds",
    "How long a health check took, connect included",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SCHEDULE_LAG = Histogram(
    "sprintconnect_health_schedule_lag_seconds",
    "How late a scheduled check started: its start time minus its due time",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)
STALE_SERVERS = Gauge(
    "sprintconnect_health_stale_servers",
    "Enabled servers whose last check is older than twice their interval (all tenants)",
)
