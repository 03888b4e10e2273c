"""The MCP gateway: toolsets served as MCP endpoints, and the one path every call takes
(playground or gateway) to an upstream server: validation, policy, class limits, audit, the
call itself through the egress guard, and a measurement."""
