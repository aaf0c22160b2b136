"""Limits and neutralisation for files that cross the directory's border (imports and the
spreadsheet exports): sizes, row counts, field lengths, zip bombs, CSV formula injection."""

from __future__ import annotations

import re

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # an API upload
MAX_FILE_BYTES = 1024 * 1024 * 1024  # a file given to the CLI (streamed, so it may be large)
MAX_ROWS = 250_000  # services (or CSV rows) in one import
MAX_FIELD_CHARS = 20_000  # one CSV cell or JSON string
MAX_ZIP_MEMBERS = 40
MAX_ZIP_UNCOMPRESSED = 2 * 1024 * 1024 * 1024
MAX_ZIP_RATIO = 200  # uncompressed / compressed, per member (text compresses ~10x; bombs ~1000x)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number or phone number is harmless in a spreadsheet: no function call, no DDE.
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9][0-9 ()./;,+-]*$")


def neutralise_cell(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with `'` (OWASP CSV injection).

    Plain numbers and phone numbers (`+380 44 123 45 67`, `-12.5`) are left as they are.
    """
    if value and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def is_formula(value: str) -> bool:
    return bool(value) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value)


def unneutralise_cell(value: str) -> str:
    """Undo `neutralise_cell` (our own exports) when reading a cell back in."""
    if value.startswith("'") and is_formula(value[1:]):
        return value[1:]
    return value
