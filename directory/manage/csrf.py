"""CSRF protection for every form of the manage app: a synchronizer token tied to the session.

The token is an HMAC of the session's nonce with the app secret, so it needs no storage, changes
whenever the nonce does (sign-in, sign-out) and cannot be computed by another site. Forms carry it
in a hidden `csrf_token` field; htmx requests send it as the `X-CSRF-Token` header (set once on
`<body hx-headers>`). SameSite=Lax on the cookie is a second, independent line of defence.
"""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token_for(nonce: str, secret: str) -> str:
    return hmac.new(secret.encode(), ("csrf:" + nonce).encode(), hashlib.sha256).hexdigest()


def is_valid(token: str | None, nonce: str | None, secret: str) -> bool:
    if not token or not nonce:
        return False
    return hmac.compare_digest(token, token_for(nonce, secret))
