"""Authorization: the permission catalog, built-in roles, and the policy decision point."""
