"""Who is calling: principals, scopes, authentication, rate limits."""
