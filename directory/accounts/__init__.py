"""Users, roles and region scopes, password hashing, API tokens, web sessions."""
