"""Finding servers by capability: the search API over each server's latest snapshot."""
