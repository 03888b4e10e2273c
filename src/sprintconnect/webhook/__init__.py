"""Webhooks: signed deliveries of the organization's events to its endpoints (issue 13)."""
