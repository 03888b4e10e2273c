"""The tamper-evident audit ledger: Merkle leaves, signed checkpoints, proofs, verification.

See docs/decisions/0007-audit-ledger.md for the design.
"""
