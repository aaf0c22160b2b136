"""The words of an alert notice in every interface language.

A CAP message brings its own texts in the languages of its `<info>` blocks; every other locale,
and every region-state alert (which has no text at all), gets these translated templates.
"""

from __future__ import annotations

from directory.config import UI_LOCALES
from directory.i18n import gettext as _
from directory.i18n import use_locale

#: The alert types a region-state feed reports, as the directory names them (docs/alerts.md).
ALERT_TYPES = ("air_raid", "shelling", "fighting", "chemical", "nuclear", "other")


def type_title(alert_type: str) -> str:
    """The headline of an alert of a type, in the current locale."""
    titles = {
        "air_raid": _("Air-raid alert"),
        "shelling": _("Shelling threat"),
        "fighting": _("Street fighting"),
        "chemical": _("Chemical threat"),
        "nuclear": _("Radiation threat"),
    }
    return titles.get(alert_type, _("Official warning"))


def type_body(alert_type: str) -> str:
    """What to do, in the current locale."""
    if alert_type in ("air_raid", "shelling", "fighting"):
        return _("Go to the nearest shelter now and stay there until the alert ends.")
    if alert_type in ("chemical", "nuclear"):
        return _("Stay indoors, close the windows and follow the instructions of the authorities.")
    return _("Follow the instructions of the authorities.")


def cap_fallback_body(languages: list[str]) -> str:
    """For a locale a CAP message has no text in: say so, and in which languages it has one."""
    from directory.i18n import language_name

    names = ", ".join(language_name(code) for code in languages)
    return _(
        "An official warning is in force for this region. Follow the instructions of the "
        "authorities. The full text is published in: %(languages)s.",
        languages=names,
    )


def template_texts(alert_type: str) -> dict[str, dict[str, str]]:
    """{locale: {"title": ..., "body": ...}} for every interface language."""
    out: dict[str, dict[str, str]] = {}
    for loc in UI_LOCALES:
        with use_locale(loc):
            out[loc] = {"title": type_title(alert_type), "body": type_body(alert_type)}
    return out


def cap_texts(by_language: dict[str, tuple[str, str]]) -> dict[str, dict[str, str]]:
    """CAP texts {locale: (title, body)} → every interface language (templates where missing)."""
    out: dict[str, dict[str, str]] = {}
    have = list(by_language)
    for loc in UI_LOCALES:
        if loc in by_language:
            title, body = by_language[loc]
            out[loc] = {"title": title, "body": body}
            continue
        with use_locale(loc):
            out[loc] = {"title": _("Official warning"), "body": cap_fallback_body(have)}
    return out
