"""Domain errors raised by services and turned into responses by each adapter:
RFC 9457 problem documents in the API, localised pages or form errors in HTML, one line in the CLI."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class. `status` is the HTTP status the API uses for it."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    """The record changed since the change was based on it (extra: current_version, current)."""

    status = 409
    title = "Conflict"


class PreconditionFailed(DomainError):
    """If-Match named a version that is no longer current (extra: current_version)."""

    status = 412
    title = "Precondition failed"


class ValidationFailed(DomainError):
    """One or more fields are invalid. `errors` is a list of {"path": ..., "message": ...}."""

    status = 422
    title = "Validation failed"

    def __init__(self, errors: list[dict[str, str]], detail: str = "") -> None:
        super().__init__(detail or "; ".join(f"{e['path']}: {e['message']}" for e in errors))
        self.errors = errors


class Unauthorized(DomainError):
    """No valid credentials (a missing, unknown, expired or revoked token; a wrong password).
    The detail never says which, so it cannot reveal whether an email exists."""

    status = 401
    title = "Unauthorized"


class TooManyRequests(DomainError):
    """Rate limited (extra: retry_after seconds)."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str = "", *, retry_after: int = 60) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after
