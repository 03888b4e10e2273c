"""API keys: ``sc_<prefix>_<secret>``, stored as an HMAC, shown once."""
