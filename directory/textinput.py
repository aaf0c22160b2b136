"""Reusable validators for every text a person can enter (API bodies, forms, imports).

Text is stored as typed: NFC-normalised, surrounding whitespace trimmed, control characters
refused (not silently dropped, so the person learns what was wrong), length bounded. Markup is
NOT stripped — it is stored as typed and made inert where it is shown (Jinja autoescaping, JSON).

Use the `Annotated` types in pydantic models::

    from typing import Annotated, Any
    from directory.textinput import SafeLine, SafeText, SafeUrl, line

    class ServiceIn(BaseModel):
        name: SafeLine                  # one line, at most 300 characters
        description: SafeText           # several lines, at most 5000 characters
        website: SafeUrl | None = None  # http(s) only: no javascript:, data:, vbscript: URLs
        code: Annotated[str, line(40)]  # a custom bound

or call `clean_line(value, max_length=...)` / `clean_text(...)` / `clean_url(...)` directly in
form handlers and importers; they raise `ValueError` with a short English message (pydantic
turns it into a 422 entry; HTML forms translate the message key in `TextInputError.code`).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field

from directory.errors import FieldError

#: Default bounds (characters after normalisation).
LINE_MAX = 300
TEXT_MAX = 5000
URL_MAX = 2000

# Categories refused everywhere: Cc (control), Cs (surrogates), Co (private use), Cn (unassigned).
# Cf (format) is allowed except for the bidirectional overrides/isolates that can disguise text
# ("Trojan Source"); ZWJ/ZWNJ stay allowed because Arabic, Persian and emoji need them.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_LINE_BREAKS_OK = frozenset("\n\t")


class TextInputError(FieldError):
    """A refused text. `code` is a stable key adapters can translate (with `params`)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message, code, **params)


#: Characters already found acceptable (one set per mode): most texts reuse a small alphabet,
#: so a C-level subset test replaces the per-character Unicode lookups (imports of 100,000
#: services check millions of characters). Only accepted characters are remembered.
_SEEN_OK: dict[bool, set[str]] = {False: set(), True: set()}
_SEEN_MAX = 100_000


def _check_chars(value: str, *, multiline: bool) -> None:
    seen = _SEEN_OK[multiline]
    chars = set(value)
    if chars <= seen:
        return
    _check_each(value, multiline=multiline)  # in order: the first bad character is reported
    if len(seen) < _SEEN_MAX:
        seen |= chars


def _check_each(value: str, *, multiline: bool) -> None:
    for ch in value:
        if multiline and ch in _LINE_BREAKS_OK:
            continue
        if ch in _BIDI_CONTROLS:
            raise TextInputError("control_character", "contains an invisible direction control")
        if unicodedata.category(ch) in _REFUSED_CATEGORIES or ch in "\u2028\u2029":
            raise TextInputError(
                "control_character",
                "contains a control character"
                if multiline or ch not in "\n\r\t"
                else "must be a single line",
            )


def _normalise(value: object, *, multiline: bool) -> str:
    if not isinstance(value, str):
        raise TextInputError("not_text", "must be text")
    value = unicodedata.normalize("NFC", value)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.strip()


def clean_line(value: object, *, max_length: int = LINE_MAX, min_length: int = 0) -> str:
    """One line of text: NFC, trimmed, no control characters or line breaks, bounded."""
    out = _normalise(value, multiline=False)
    _check_chars(out, multiline=False)
    _check_length(out, min_length, max_length)
    return out


def clean_text(value: object, *, max_length: int = TEXT_MAX, min_length: int = 0) -> str:
    """Several lines (\\n and tabs allowed; \\r\\n folded to \\n), otherwise as `clean_line`."""
    out = _normalise(value, multiline=True)
    _check_chars(out, multiline=True)
    _check_length(out, min_length, max_length)
    return out


def clean_url(value: object, *, max_length: int = URL_MAX) -> str:
    """An absolute http(s) URL. Refuses javascript:, data:, vbscript:, relative and odd URLs."""
    out = clean_line(value, max_length=max_length, min_length=1)
    if any(ch.isspace() for ch in out):
        raise TextInputError("bad_url", "must not contain spaces")
    try:
        parts = urlsplit(out)
    except ValueError:
        raise TextInputError("bad_url", "is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise TextInputError("bad_url", "must be an http:// or https:// address")
    return out


def _check_length(text: str, min_length: int, max_length: int) -> None:
    if len(text) > max_length:
        raise TextInputError("too_long", f"must be at most {max_length} characters", max=max_length)
    if len(text) < min_length:
        if min_length > 1:
            raise TextInputError(
                "too_short", f"must be at least {min_length} characters", min=min_length
            )
        raise TextInputError("required", "must not be empty")


def line(max_length: int = LINE_MAX, min_length: int = 0) -> BeforeValidator:
    """Validator for `Annotated[str, line(40)]`: one line with custom bounds."""
    return BeforeValidator(lambda v: clean_line(v, max_length=max_length, min_length=min_length))


def text(max_length: int = TEXT_MAX, min_length: int = 0) -> BeforeValidator:
    """Validator for `Annotated[str, text(2000)]`: several lines with custom bounds."""
    return BeforeValidator(lambda v: clean_text(v, max_length=max_length, min_length=min_length))


# The Field() carries the bound into the OpenAPI document (maxLength); the validator enforces it.
SafeLine = Annotated[str, line(LINE_MAX), Field(max_length=LINE_MAX)]
"""One line, at most 300 characters (names, titles, street, city, phone labels)."""
SafeName = Annotated[str, line(LINE_MAX, 1), Field(min_length=1, max_length=LINE_MAX)]
"""Like SafeLine, but not empty."""
SafeText = Annotated[str, text(TEXT_MAX), Field(max_length=TEXT_MAX)]
"""Several lines, at most 5000 characters (descriptions, reasons, notes, report texts)."""
SafeUrl = Annotated[str, BeforeValidator(clean_url), Field(max_length=URL_MAX)]
"""An absolute http(s) URL, at most 2000 characters."""
SafeSearch = Annotated[str, line(200), Field(max_length=200)]
"""A free-text search query (bounded at 200 characters)."""
