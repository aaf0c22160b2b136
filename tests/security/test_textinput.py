"""Every text a person enters is stored as typed: NFC, no control characters, bounded."""

from __future__ import annotations

import unicodedata
from typing import Annotated

import pytest
from pydantic import BaseModel, ValidationError

from directory.textinput import (
    SafeLine,
    SafeName,
    SafeText,
    SafeUrl,
    TextInputError,
    clean_line,
    clean_text,
    clean_url,
    line,
)


class Form(BaseModel):
    name: SafeName
    street: SafeLine = ""
    description: SafeText = ""
    website: SafeUrl | None = None
    code: Annotated[str, line(5)] = ""


def test_nfc_normalised_and_trimmed() -> None:
    decomposed = "Kyi\u0308v  "  # ï written as i + combining diaeresis
    assert unicodedata.normalize("NFC", decomposed) != decomposed
    assert clean_line(decomposed) == "Kyïv"
    assert Form(name=decomposed).name == "Kyïv"


@pytest.mark.parametrize("value", ["Харків", "خاركيف", "Charków 🏠", "Lviv\u200dx", "a<b>&\"'"])
def test_real_text_in_any_script_is_kept_as_typed(value: str) -> None:
    assert clean_line(value) == value


@pytest.mark.parametrize(
    "value",
    ["a\x00b", "a\x07b", "a\x1bb", "a\x7fb", "a\u202eb", "a\u2066b", "a\ud800b", "a\ue000b"],
)
def test_control_characters_refused(value: str) -> None:
    with pytest.raises(TextInputError) as exc:
        clean_text(value)
    assert exc.value.code == "control_character"
    with pytest.raises(ValidationError):
        Form(name=value)


def test_line_breaks_only_in_multiline_text() -> None:
    assert clean_text("one\r\ntwo\rthree\n\tfour") == "one\ntwo\nthree\n\tfour"
    with pytest.raises(TextInputError):
        clean_line("one\ntwo")
    with pytest.raises(ValidationError):
        Form(name="x", street="a\nb")


def test_lengths_bounded() -> None:
    Form(name="x" * 300)
    with pytest.raises(ValidationError):
        Form(name="x" * 301)
    with pytest.raises(ValidationError):
        Form(name="   ")
    with pytest.raises(ValidationError):
        Form(name="x", description="y" * 5001)
    with pytest.raises(ValidationError):
        Form(name="x", code="123456")
    assert Form(name="x", code="12345").code == "12345"


def test_non_text_refused() -> None:
    with pytest.raises(ValidationError):
        Form(name=42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/x",
        "/relative",
        "http://",
        "https://exa mple.org",
    ],
)
def test_urls_only_http(url: str) -> None:
    with pytest.raises((TextInputError, ValueError)):
        clean_url(url)
    with pytest.raises(ValidationError):
        Form(name="x", website=url)


def test_good_urls_kept() -> None:
    assert clean_url("https://help.example.org/a?b=c") == "https://help.example.org/a?b=c"
    assert Form(name="x", website=None).website is None


def test_schema_carries_bounds() -> None:
    props = Form.model_json_schema()["properties"]
    assert props["name"]["maxLength"] == 300
    assert props["description"]["maxLength"] == 5000
