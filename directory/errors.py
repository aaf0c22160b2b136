"""Domain errors raised by services and turned into responses by each adapter:
RFC 9457 problem documents in the API, localised pages or form errors in HTML, one line in the
CLI."""

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
    """One or more fields are invalid. `errors` is a list of {"path", "code", "message"} and
    optionally "params": `code` is a stable key (docs/api.md, "Error codes") that adapters
    translate with `params`; `message` is the English sentence for API clients and logs. An
    entry raised without a code gets "invalid"."""

    status = 422
    title = "Validation failed"

    def __init__(self, errors: list[dict[str, Any]], detail: str = "") -> None:
        super().__init__(detail or "; ".join(f"{e['path']}: {e['message']}" for e in errors))
        for error in errors:
            error.setdefault("code", "invalid")
        self.errors = errors


class FieldError(ValueError):
    """One refused value. `code` is a stable key adapters translate (docs/api.md, "Error
    codes"), `params` what the translated sentence needs; str() is the English message."""

    def __init__(self, message: str, code: str = "invalid", **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params

    def at(self, path: str) -> dict[str, Any]:
        """This error as an entry of `ValidationFailed.errors` for the field at `path`."""
        return field_error(path, self.code, str(self), **self.params)


def field_error(path: str, code: str, message: str, **params: Any) -> dict[str, Any]:
    """An entry of `ValidationFailed.errors`."""
    entry: dict[str, Any] = {"path": path, "code": code, "message": message}
    if params:
        entry["params"] = params
    return entry


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
