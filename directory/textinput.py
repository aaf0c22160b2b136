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

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from directory.errors import FieldError

#: Default bounds (characters after normalisation).
LINE_MAX = 300
TEXT_MAX = 5000
URL_MAX = 2000

# Refused everywhere, as one character class (so that the check and the `pattern` the OpenAPI
# document states are the same rule): C0/C1 controls (Unicode category Cc; line breaks and tabs
# are allowed inside multi-line texts), lone surrogates, the private use area of the BMP
# (U+E000-U+F8FF), the line and paragraph separators, and the bidirectional overrides/isolates
# that can disguise text ("Trojan Source"). Other format characters stay allowed: ZWJ/ZWNJ are
# needed by Arabic, Persian and emoji. (Unassigned code points and the supplementary private use
# planes are not refused: a regular expression cannot state them compactly, and a generator
# working from the documented pattern slows down twentyfold with an astral range in it.)
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
_REFUSED_CLASS = "\\x00-\\x1f\\x7f-\\x9f\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ue000-\\uf8ff"
#: Lone surrogates (only a JSON \\u escape can carry one) are refused too, but stay out of the
#: documented pattern: a JSON Schema string is made of Unicode scalar values, which excludes them.
_SURROGATES = "\\ud800-\\udfff"
_MULTILINE_REFUSED_CLASS = _REFUSED_CLASS.replace("\\x00-\\x1f", "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f")
#: What `str.strip()` removes (every character with `str.isspace()`).
_SPACE_CLASS = (
    "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029"
    "\\u202f\\u205f\\u3000"
)
_REFUSED = {
    False: re.compile(f"[{_REFUSED_CLASS}{_SURROGATES}]"),
    True: re.compile(f"[{_MULTILINE_REFUSED_CLASS}{_SURROGATES}]"),
}


def text_pattern(*, multiline: bool, required: bool = False) -> str:
    """The ECMA-262/Python regular expression of the texts `clean_line`/`clean_text` accept
    (before their length bound), for the OpenAPI document: surrounding whitespace (trimmed by the
    server), then no refused character; `required`: at least one that is not whitespace."""
    refused = _MULTILINE_REFUSED_CLASS if multiline else _REFUSED_CLASS
    # \r is folded into \n in multi-line texts, so it is allowed there too.
    body = f"[^{refused}]*"
    if required:
        body = f"[^{refused}]*[^{refused}{_SPACE_CLASS}][^{refused}]*"
    return f"^[{_SPACE_CLASS}]*{body}[{_SPACE_CLASS}]*$"


class TextInputError(FieldError):
    """A refused text. `code` is a stable key adapters can translate (with `params`)."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message, code, **params)


def _check_chars(value: str, *, multiline: bool) -> None:
    bad = _REFUSED[multiline].search(value)
    if bad is None:
        return
    ch = bad.group()
    if ch in _BIDI_CONTROLS:
        raise TextInputError("control_character", "contains an invisible direction control")
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
    """One line of text: NFC, trimmed, no control characters or line breaks, bounded (as typed
    too: the OpenAPI document's maxLength counts the characters sent)."""
    _check_sent_length(value, max_length)
    out = _normalise(value, multiline=False)
    _check_chars(out, multiline=False)
    _check_length(out, min_length, max_length)
    return out


def clean_text(value: object, *, max_length: int = TEXT_MAX, min_length: int = 0) -> str:
    """Several lines (\\n and tabs allowed; \\r\\n folded to \\n), otherwise as `clean_line`."""
    _check_sent_length(value, max_length)
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
    if not _URL.match(out):  # e.g. a bracketed (IP literal) host
        raise TextInputError("bad_url", "is not a valid URL")
    return out


def _check_sent_length(value: object, max_length: int) -> None:
    if isinstance(value, str) and len(value) > max_length:
        raise TextInputError("too_long", f"must be at most {max_length} characters", max=max_length)


def _check_length(text: str, min_length: int, max_length: int) -> None:
    if len(text) > max_length:
        raise TextInputError("too_long", f"must be at most {max_length} characters", max=max_length)
    if len(text) < min_length:
        if min_length > 1:
            raise TextInputError(
                "too_short", f"must be at least {min_length} characters", min=min_length
            )
        raise TextInputError("required", "must not be empty")


def url_pattern() -> str:
    """The regular expression of the URLs `clean_url` accepts (OpenAPI `pattern`): http(s),
    a host without spaces or brackets, then anything without spaces."""
    host = f"[^{_REFUSED_CLASS}{_SPACE_CLASS}/?#\\[\\]]+"
    rest = f"(?:[/?#][^{_REFUSED_CLASS}{_SPACE_CLASS}]*)?"
    return f"^[{_SPACE_CLASS}]*[hH][tT][tT][pP][sS]?://{host}{rest}[{_SPACE_CLASS}]*$"


_URL = re.compile(url_pattern())


@dataclass(frozen=True)
class _Text:
    """Validator and documentation of a text field: `clean_line`/`clean_text` run before the
    type check, and the JSON schema states the same rule (`pattern`, `maxLength`,
    `minLength`), so the OpenAPI document promises exactly what the server accepts."""

    max_length: int
    min_length: int
    multiline: bool

    def clean(self, value: object) -> str:
        cleaner = clean_text if self.multiline else clean_line
        return cleaner(value, max_length=self.max_length, min_length=self.min_length)

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.clean, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        out["pattern"] = text_pattern(multiline=self.multiline, required=self.min_length > 0)
        out.setdefault("maxLength", self.max_length)
        if self.min_length:
            out.setdefault("minLength", self.min_length)
        return out


def line(max_length: int = LINE_MAX, min_length: int = 0) -> _Text:
    """Validator for `Annotated[str, line(40)]`: one line with custom bounds."""
    return _Text(max_length, min_length, multiline=False)


def text(max_length: int = TEXT_MAX, min_length: int = 0) -> _Text:
    """Validator for `Annotated[str, text(2000)]`: several lines with custom bounds."""
    return _Text(max_length, min_length, multiline=True)


# The Field() carries the bound into the OpenAPI document (maxLength); the validator enforces it.
SafeLine = Annotated[str, line(LINE_MAX), Field(max_length=LINE_MAX)]
"""One line, at most 300 characters (names, titles, street, city, phone labels)."""
SafeName = Annotated[str, line(LINE_MAX, 1), Field(min_length=1, max_length=LINE_MAX)]
"""Like SafeLine, but not empty."""
SafeText = Annotated[str, text(TEXT_MAX), Field(max_length=TEXT_MAX)]
"""Several lines, at most 5000 characters (descriptions, reasons, notes, report texts)."""
SafeUrl = Annotated[
    str,
    BeforeValidator(clean_url),
    Field(max_length=URL_MAX, json_schema_extra={"pattern": url_pattern()}),
]
"""An absolute http(s) URL, at most 2000 characters."""
SafeSearch = Annotated[str, line(200), Field(max_length=200)]
"""A free-text search query (bounded at 200 characters)."""
