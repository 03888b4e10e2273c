"""Users and their memberships in organizations."""
