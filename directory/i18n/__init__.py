"""Locales and translations: the reader's locale in a ContextVar, gettext over every catalog
domain of that locale, Babel formatting (dates, durations, numbers, distances) in that locale.

Catalogs live in `translations/<locale>/LC_MESSAGES/<domain>.po` and are compiled in memory at
first use, so no compile step exists. All domains of a locale (`web`, `manage`, ...) are merged
into one Translations object: templates and code just call `gettext`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel import units as babel_units
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

from directory.config import RTL_LOCALES, UI_LOCALES

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
#: The language the source strings are written in (it needs no catalog).
SOURCE_LOCALE = "en"

_locale: ContextVar[str] = ContextVar("directory_locale", default=SOURCE_LOCALE)


# --- the current locale -------------------------------------------------------------------------


def get_locale() -> str:
    return _locale.get()


def set_locale(code: str) -> None:
    _locale.set(code if code in UI_LOCALES else SOURCE_LOCALE)


@contextmanager
def use_locale(code: str) -> Iterator[None]:
    """Run a block in another locale (e.g. rendering a page, sending a mail)."""
    token = _locale.set(code if code in UI_LOCALES else SOURCE_LOCALE)
    try:
        yield
    finally:
        _locale.reset(token)


def text_direction(code: str | None = None) -> str:
    return "rtl" if (code or get_locale()).split("-")[0] in RTL_LOCALES else "ltr"


@cache
def locale_name(code: str) -> str:
    """The endonym of a locale, capitalised as a menu entry ("Українська", "العربية")."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code
    return name[:1].upper() + name[1:]


def negotiate(accept_language: str | None, default: str = SOURCE_LOCALE) -> str:
    """Pick a UI locale from an Accept-Language header (RFC 9110 q-values, language prefixes)."""
    prefs: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        lang, _, params = part.strip().partition(";")
        lang = lang.strip().lower()
        if not lang:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            prefs.append((-q, index, lang))
    for _, _, lang in sorted(prefs):
        if lang == "*":
            return default
        base = lang.replace("_", "-").split("-")[0]
        if base in UI_LOCALES:
            return base
    return default


def request_locale(path: str, accept_language: str | None, default: str = SOURCE_LOCALE) -> str:
    """The locale of a request: its /{locale}/ path prefix, else `negotiate(accept_language)`."""
    first = path.lstrip("/").split("/", 1)[0]
    if first in available_locales():
        return first
    return negotiate(accept_language, default=default)


# --- catalogs -------------------------------------------------------------------------------------


def catalog_files(code: str) -> list[Path]:
    return sorted((TRANSLATIONS_DIR / code / "LC_MESSAGES").glob("*.po"))


@cache
def translations(code: str) -> NullTranslations:
    """Every domain of `code` merged into one object, compiled from the .po files in memory."""
    merged: NullTranslations | None = None
    for path in catalog_files(code):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=code, domain=path.stem)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        loaded = Translations(buffer, domain=path.stem)
        if merged is None:
            merged = loaded
        else:
            assert isinstance(merged, Translations)
            merged.merge(loaded)
    return merged or NullTranslations()


def available_locales() -> list[str]:
    """UI locales with a catalog, plus the source language (a new list each call).

    Looked up once per catalog folder and process: every page asks several times (URL check,
    language menu, error pages) and globbing the folders cost ~0.2 ms per search page."""
    return list(_available_locales(TRANSLATIONS_DIR))


@lru_cache(maxsize=4)
def _available_locales(folder: Path) -> tuple[str, ...]:
    return tuple(code for code in UI_LOCALES if code == SOURCE_LOCALE or catalog_files(code))


# --- gettext ------------------------------------------------------------------------------------


def gettext(message: str, **variables: Any) -> str:
    text = translations(get_locale()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """Plural by the CLDR rules of the locale; `%(num)s` is `n` unless given (e.g. formatted)."""
    variables.setdefault("num", n)
    return translations(get_locale()).ungettext(singular, plural, n) % variables


def pgettext(context: str, message: str, **variables: Any) -> str:
    text = translations(get_locale()).upgettext(context, message)
    return text % variables if variables else text


def lazy_gettext(message: str, **variables: Any) -> LazyProxy:
    """For strings defined at import time: translated when used, in the locale of that moment."""
    return LazyProxy(gettext, message, enable_cache=False, **variables)


def lazy_pgettext(context: str, message: str) -> LazyProxy:
    return LazyProxy(pgettext, context, message, enable_cache=False)


_ = gettext


# --- formatting (always in the current locale) ---------------------------------------------------


@cache
def babel_locale(code: str) -> Locale:
    """The Babel `Locale` of a code, parsed once per process (formatting functions take it as is,
    which skips parsing the code and rebuilding the locale data on every call)."""
    return Locale.parse(code)


def _babel() -> Locale:
    return babel_locale(get_locale())


@cache
def _skeleton_pattern(code: str, skeleton: str) -> str:
    """The CLDR pattern `format_skeleton` would pick (its fuzzy match is slow: done once)."""
    loc = babel_locale(code)
    if skeleton not in loc.datetime_skeletons:
        skeleton = babel_dates.match_skeleton(skeleton, loc.datetime_skeletons) or skeleton
    return str(loc.datetime_skeletons[skeleton])


def format_datetime(value: dt.datetime, format: str = "medium", tz: str | None = None) -> str:
    tzinfo = babel_dates.get_timezone(tz) if tz else None
    return babel_dates.format_datetime(value, format, tzinfo=tzinfo, locale=_babel())


def format_date(value: dt.date | dt.datetime, format: str = "medium", tz: str | None = None) -> str:
    if isinstance(value, dt.datetime) and tz:
        value = value.astimezone(babel_dates.get_timezone(tz))
    return babel_dates.format_date(value, format, locale=_babel())


def format_time(value: dt.time | dt.datetime, format: str = "short", tz: str | None = None) -> str:
    if isinstance(value, dt.datetime) and tz:
        value = value.astimezone(babel_dates.get_timezone(tz))
    return babel_dates.format_time(value, format, locale=_babel())


@cache
def _time_skeleton(code: str) -> str:
    """The interval skeleton matching the locale's own short time (12- or 24-hour clock)."""
    pattern = str(babel_locale(code).time_formats["short"].pattern)
    return "hm" if "h" in pattern or "K" in pattern else "Hm"


def format_time_range(start: dt.time, end: dt.time) -> str:
    """An opening-hours span as the locale writes one: "9:00 AM – 6:00 PM", "09:00–18:00",
    "9:00 ص – 6:00 م" (CLDR interval formats, via Babel's `format_interval`). Put it in a
    `<bdi>` (see docs/frontend.md): the Arabic text then reads right to left as one unit."""
    if start == end:
        return format_time(start)
    code = get_locale()
    return babel_dates.format_interval(start, end, _time_skeleton(code), locale=babel_locale(code))


def format_weekday(index: int, width: str = "wide") -> str:
    """Name of a weekday, 0 = Monday, standalone form (as a table heading)."""
    names = _babel().days["stand-alone"][width]
    return str(names[index])


def format_ago(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """'2 hours ago' / 'vor 2 Stunden' / 'منذ ساعتين' (CLDR relative time)."""
    now = now or dt.datetime.now(dt.UTC)
    delta = value - now
    if abs(delta.total_seconds()) < 60:
        delta = dt.timedelta(seconds=-60)  # "1 minute ago" rather than "0 seconds"
    # Babel's text depends only on the direction, the unit it picks and the rounded count: key
    # the text on those (chosen exactly as format_timedelta chooses them) and format once.
    seconds = delta.days * 86400 + delta.seconds
    key = (get_locale(), seconds >= 0, *_ago_unit(abs(seconds)))
    text = _ago_texts.get(key)
    if text is None:
        text = babel_dates.format_timedelta(
            delta,
            granularity="minute",
            threshold=_AGO_THRESHOLD,
            add_direction=True,
            locale=babel_locale(key[0]),
        )
        if len(_ago_texts) >= 4096:
            _ago_texts.clear()
        _ago_texts[key] = text
    return text


_AGO_THRESHOLD = 0.9
#: format_ago's texts by (locale, future, unit, count); ~20 us each from Babel, ~35 per search page.
_ago_texts: dict[tuple[Any, ...], str] = {}


def _ago_unit(seconds: int) -> tuple[str, int]:
    """The unit and count `babel.dates.format_timedelta` shows for `seconds` (minute granularity,
    threshold 0.9): its own loop, without the formatting."""
    for unit, per_unit in babel_dates.TIMEDELTA_UNITS:
        value = seconds / per_unit
        if value >= _AGO_THRESHOLD or unit == "minute":
            if unit == "minute" and value > 0:
                value = max(1, value)
            return unit, int(round(value))
    return "minute", 0  # not reached: the loop stops at "minute"


def format_number(value: int | float | Decimal) -> str:
    if type(value) is int:  # counts and capacities: the same few numbers on every page
        return _format_int(get_locale(), value)
    return babel_numbers.format_decimal(value, locale=_babel())


@lru_cache(maxsize=4096)
def _format_int(code: str, value: int) -> str:
    return babel_numbers.format_decimal(value, locale=babel_locale(code))


def format_distance(km: float) -> str:
    """A distance as a reader would say it: "850 m", "3,2 km", "12 كم"."""
    if km < 1:
        metres = max(100, round(km * 1000, -2))
        return babel_units.format_unit(metres, "length-meter", "short", locale=_babel())
    value = round(km, 1) if km < 10 else round(km)
    return babel_units.format_unit(value, "length-kilometer", "short", locale=_babel())


def format_when(value: dt.datetime, tz: str | None = None, now: dt.datetime | None = None) -> str:
    """A moment near now, as short as is clear: "18:00" today, "Tue 08:00" this week, else a date
    and time, on the locale's clock (12-hour in English and Arabic). Shown in the zone `tz` (the
    location's) or the datetime's own zone."""
    local = value.astimezone(babel_dates.get_timezone(tz)) if tz else value
    today = (now or dt.datetime.now(dt.UTC)).astimezone(local.tzinfo).date()
    days = (local.date() - today).days
    kind = "time" if days == 0 else "week" if 0 < days < 7 else "date"
    code = get_locale()
    # Keyed on the wall-clock time AND the zone: aware datetimes of one instant in two zones
    # compare (and hash) equal, but read differently.
    key = (code, kind, local.replace(tzinfo=None), local.tzinfo, local.utcoffset())
    text = _when_texts.get(key)
    if text is None:
        if kind == "time":
            text = babel_dates.format_time(local, "short", locale=babel_locale(code))
        elif kind == "week":
            # the locale's own clock, as for today's times ("Fri 2:01 AM", "الجمعة 2:01 ص",
            # "пт 02:01"): a forced 24-hour "EEEHm" put two clocks on one Arabic page
            text = babel_dates.format_datetime(
                local,
                _skeleton_pattern(code, "EEE" + _time_skeleton(code)),
                locale=babel_locale(code),
            )
        else:
            text = babel_dates.format_datetime(local, "short", locale=babel_locale(code))
        if len(_when_texts) >= 4096:
            _when_texts.clear()
        _when_texts[key] = text
    return text


#: format_when's texts: a pure function of the key (Babel's pattern formatting costs ~30 us and
#: a search page shows the same opening times on many cards).
_when_texts: dict[tuple[Any, ...], str] = {}


def format_zone(tz: str) -> str:
    """The city that names a time zone, in the reader's language ("Kyiv", "وارسو")."""
    try:
        return str(babel_dates.get_timezone_location(tz, locale=_babel(), return_city=True))
    except (LookupError, ValueError):
        return tz


def language_name(code: str) -> str:
    """The name of a language in the reader's language ("арабська" for ar, in Ukrainian)."""
    try:
        name = _babel().languages.get(code.split("-")[0].lower())
    except (UnknownLocaleError, ValueError):
        name = None
    return name or code


@lru_cache(maxsize=4096)
def format_phone(number: str) -> str:
    """A phone number grouped for reading aloud ("+380 54 200 0102"); unchanged if unparsable.
    (Parsing costs ~0.1 ms: results are kept per process, a pure function of the number.)"""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=4096)
def phone_e164(number: str) -> str:
    """A phone number as dialled from anywhere ("+380542000102", for tel: links and for
    comparing typed numbers); digits and "+" only if unparsable."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
