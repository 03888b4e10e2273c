"""Browser sign-in through the organization's OIDC provider, and server-side sessions."""
