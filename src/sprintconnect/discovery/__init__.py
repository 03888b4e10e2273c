"""Capability discovery: listing what a server offers, into versioned snapshots with diffs."""
