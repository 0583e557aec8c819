"""Token verification; only the authorizer imports this package (it pulls in PyJWT)."""
