"""SprintConnect's token service and the validation of access tokens (JWT, DPoP, mTLS)."""
