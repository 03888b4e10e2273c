"""Roles: the built-in ones, custom ones per organization, and who holds them."""
