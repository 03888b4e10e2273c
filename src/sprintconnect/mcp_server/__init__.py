"""The MCP server registry: registration, listing, changes, credentials."""
