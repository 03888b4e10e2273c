"""Notifications of health events: preferences, escalation, delivery."""
