"""SprintConnect: a multi-tenant control plane for MCP servers."""

__version__ = "0.1.0"
