"""The per-request shortcuts of the HTML adapters give exactly what the slower paths they replace
gave: the Python `icon`/`local` of macros.html, the one-call `_()` of templates, memoised Babel
texts, the locale list, and pooled SQLite connections that are reused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from babel import dates as babel_dates
from jinja2 import ChoiceLoader, DictLoader, Environment
from sqlalchemy import event, text

from directory import i18n
from directory.db import SQLITE_POOL_SIZE, make_engine, make_sessionmaker, sqlite_read_only
from directory.listings.texts import LocalText
from directory.web import templating

#: The Jinja macros that `svg_icons` and `local_text` replace, as they were.
OLD_MACROS = """\
{% set ICONS = {"info": "M1 2", "pin": "M3 4z", "odd": "a<b&\\"c"} %}
{% macro icon(name) -%}
<svg class="i" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"><path d="{{ ICONS.get(name, ICONS['info']) }}"/></svg>
{%- endmacro %}
{% macro local(text, tag="span", class_="") -%}
{% if text %}<{{ tag }}{% if class_ %} class="{{ class_ }}"{% endif %}{% if text.fallback %} lang="{{ text.locale }}" dir="{{ text_direction(text.locale) }}"{% endif %}>{{ text.value }}</{{ tag }}>{% endif %}
{%- endmacro %}
"""
NEW_MACROS = """\
{% set ICONS = {"info": "M1 2", "pin": "M3 4z", "odd": "a<b&\\"c"} %}
{% set icon = svg_icons(ICONS) %}
{% set local = local_text %}
"""
CALLS = """\
{% from "m.html" import icon, local %}
{{ icon("pin") }}|{{ icon("missing") }}|{{ icon("odd") }}
{{ local(a) }}|{{ local(b, "p") }}|{{ local(b, tag="h2", class_="x<y") }}|{{ local(none) }}|{{ local(empty) }}
{{ local(d) }}|{{ local(c, class_="meta") }}
"""


def _render(macros: str, **ctx: object) -> str:
    env = templating.environment()
    overlay: Environment = env.overlay(loader=ChoiceLoader([DictLoader({"m.html": macros})]))
    return overlay.from_string(CALLS).render(**ctx)


def test_icon_and_local_render_as_the_macros_did():
    ctx = {
        "a": LocalText("Укриття <1>", "uk", False),
        "b": LocalText('Shelter & "food"', "ar", True),
        "c": LocalText("x", "en", True),
        "d": {"value": "from a dict", "locale": "de", "fallback": True},
        "empty": "",
    }
    old, new = _render(OLD_MACROS, **ctx), _render(NEW_MACROS, **ctx)
    assert new == old
    assert 'lang="ar" dir="rtl"' in new and "&lt;1&gt;" in new and 'class="x&lt;y"' in new
    assert 'd="a&lt;b&amp;&#34;c"' in new and new.count('d="M1 2"') == 1  # unknown name: info


@pytest.mark.parametrize("locale", ["en", "uk", "ar"])
def test_template_gettext_matches_jinja_newstyle(locale):
    env = templating.environment()
    source = (
        '{{ _("Open now") }}|{{ _("updated %(ago)s", ago="<b>") }}|'
        '{{ gettext("updated %(ago)s", ago="<b>") }}|{{ _("100%% sure") }}'
    )
    with i18n.use_locale(locale):
        ours = env.from_string(source).render()
        jinja = env.from_string(source.replace("{{ _(", "{{ gettext(")).render()
    assert ours == jinja
    assert "&lt;b&gt;" in ours and "<b>" not in ours and "100% sure" in ours


def test_format_ago_is_babels_text():
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    seconds = [
        -59,
        0,
        59,
        61,
        89,
        90,
        91,
        3000,
        3239,
        3240,
        3241,
        -5400,
        86400 * 6 + 43199,
        86400 * 27,
        -86400 * 26 - 50000,
        31536000 * 3,
        -31536000 * 2 + 1,
    ]
    for code in i18n.available_locales():
        with i18n.use_locale(code):
            for s in seconds:
                value = now + dt.timedelta(seconds=s)
                delta = value - now
                if abs(delta.total_seconds()) < 60:
                    delta = dt.timedelta(seconds=-60)
                want = babel_dates.format_timedelta(
                    delta,
                    granularity="minute",
                    threshold=0.9,
                    add_direction=True,
                    locale=i18n.babel_locale(code),
                )
                assert i18n.format_ago(value, now) == want, (code, s)


def test_format_number_and_when_are_babels_text():
    with i18n.use_locale("de"):
        assert i18n.format_number(12345) == "12.345" and i18n.format_number(1.5) == "1,5"
    kyiv = dt.datetime(2026, 11, 25, 18, 0, tzinfo=dt.UTC)
    with i18n.use_locale("en"):
        # the same instant in two zones: two texts (the memo keys on the zone too)
        here = i18n.format_when(kyiv, "Europe/Kyiv", now=kyiv)
        there = i18n.format_when(kyiv, "Europe/Warsaw", now=kyiv)
    assert (here, there) == ("8:00\u202fPM", "7:00\u202fPM")


def test_available_locales_is_a_fresh_list_and_follows_the_catalog_folder(tmp_path, monkeypatch):
    locales = i18n.available_locales()
    assert locales[0] == "en" and "uk" in locales and "ar" in locales
    locales.append("xx")
    assert "xx" not in i18n.available_locales()
    (tmp_path / "pl" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "pl" / "LC_MESSAGES" / "web.po").write_text("", encoding="utf-8")
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    assert i18n.available_locales() == ["en", "pl"]


def test_sqlite_file_engine_keeps_its_connections(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))
    factory = make_sessionmaker(engine)
    reading = sqlite_read_only.set(True)  # readers, like GET requests (plain BEGIN, side by side)
    try:
        held = [factory() for _ in range(12)]  # more than SQLAlchemy's default 5 at once
        for session in held:
            session.execute(text("SELECT 1"))
        for session in held:
            session.close()
        assert engine.pool.size() == SQLITE_POOL_SIZE and engine.pool.checkedin() == 12
        for session in held:
            session.execute(text("SELECT 1"))
            session.close()
    finally:
        sqlite_read_only.reset(reading)
    assert len(opened) == 12  # returned and checked out again: none closed and reopened
    engine.dispose()
    memory = make_engine("sqlite://")  # in-memory databases keep SQLAlchemy's own pool
    assert type(memory.pool).__name__ != "QueuePool"
    memory.dispose()
