"""users: accounts, password hashes, roles; issues JWTs and publishes the JWKS."""
