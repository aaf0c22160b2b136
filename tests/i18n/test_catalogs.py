"""Catalogs: complete, not fuzzy, current with the code, right plural rules; and the Babel glue."""

from __future__ import annotations

import datetime as dt
import gettext

import pytest
from babel import Locale
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from directory import i18n
from directory.config import UI_LOCALES
from directory.i18n import catalogs

TRANSLATED = [code for code in UI_LOCALES if code != i18n.SOURCE_LOCALE]


def _read(path):
    with path.open("rb") as fh:
        return read_po(fh)


@pytest.mark.parametrize("locale", TRANSLATED)
@pytest.mark.parametrize("domain", list(catalogs.DOMAINS))
def test_every_catalog_is_complete_and_not_fuzzy(locale, domain):
    catalog = _read(catalogs.po_path(locale, domain))
    untranslated = [m.id for m in catalog if m.id and not catalogs.is_translated(m)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [], f"{locale}/{domain}: untranslated {untranslated[:5]}"
    assert fuzzy == [], f"{locale}/{domain}: fuzzy {fuzzy[:5]}"
    assert not catalog.fuzzy, f"{locale}/{domain}: the header is marked fuzzy"


@pytest.mark.parametrize("domain", list(catalogs.DOMAINS))
def test_catalogs_are_current_with_the_code(domain):
    """Fails when code or templates hold a string that `./dev messages` has not extracted."""
    fresh = catalogs.msgids(catalogs.extract(domain))
    pot = catalogs.msgids(_read(catalogs.pot_path(domain)))
    assert fresh - pot == set(), "run ./dev messages: new strings " + repr(sorted(fresh - pot)[:5])
    assert pot - fresh == set(), "run ./dev messages: stale strings " + repr(
        sorted(pot - fresh)[:5]
    )
    for locale in TRANSLATED:
        po = catalogs.msgids(_read(catalogs.po_path(locale, domain)))
        assert po == fresh, f"{locale}/{domain} differs from the code"


def _categories_by_form(plural_expr: str, locale: str, numbers: range) -> dict[int, set[str]]:
    """{plural form index chosen by `plural_expr`: the CLDR categories of the numbers it gets}.

    The expression is parsed by gettext's own parser (the one that picks the form at run time);
    the category of each number comes from Babel's parsing of the CLDR rule (babel.plural).
    """
    choose = gettext.c2py(plural_expr)
    rule = Locale.parse(locale).plural_form
    forms: dict[int, set[str]] = {}
    for n in numbers:
        forms.setdefault(choose(n), set()).add(rule(n))
    return forms


@pytest.mark.parametrize("locale", TRANSLATED)
def test_plural_forms_header_follows_cldr(locale):
    """Compares plural RULES, not how a Babel version writes them (2.19 writes them differently).

    The header's expression must split the whole numbers exactly as CLDR does: each form gets
    one CLDR category and each category one form, and as many forms as Babel's rule has for
    whole numbers. The order of the forms is the catalog's own (its translations follow it).
    """
    numbers = range(0, 2001)
    cldr = Locale.parse(locale).plural_form
    whole_number_categories = {cldr(n) for n in numbers}
    assert len(whole_number_categories) == get_plural(locale).num_plurals, locale
    for domain in catalogs.DOMAINS:
        catalog = _read(catalogs.po_path(locale, domain))
        assert catalog.num_plurals == len(whole_number_categories), (locale, domain)
        forms = _categories_by_form(catalog.plural_expr, locale, numbers)
        assert sorted(forms) == list(range(catalog.num_plurals)), (
            locale,
            domain,
            catalog.plural_expr,
        )
        assert all(len(cats) == 1 for cats in forms.values()), (locale, domain, forms)
        assert {c for cats in forms.values() for c in cats} == whole_number_categories
        for message in catalog:
            if message.pluralizable and message.id:
                assert len(message.string) == catalog.num_plurals


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_domain_of_a_locale_has_the_same_plural_rule(locale):
    """The domains are merged into one translation object with ONE plural function (the first
    file's, alphabetically `alerts`): a domain written by another Babel version with Arabic's forms
    in another order put "26 places" in the form of "100 places"."""
    numbers = range(0, 2001)
    choosers = {
        path.stem: gettext.c2py(_read(path).plural_expr) for path in i18n.catalog_files(locale)
    }
    assert len(choosers) >= len(catalogs.DOMAINS)
    first = next(iter(choosers.values()))
    for domain, choose in choosers.items():
        assert [choose(n) for n in numbers] == [first(n) for n in numbers], (locale, domain)


def test_plural_rule_check_fails_on_a_wrong_rule():
    """The check above is not vacuous: Polish's rule in a Ukrainian catalog (21 → "many") fails."""
    polish = get_plural("pl").plural_expr
    forms = _categories_by_form(polish, "uk", range(0, 200))
    assert any(len(cats) > 1 for cats in forms.values())
    assert all(
        len(c) == 1
        for c in _categories_by_form(get_plural("uk").plural_expr, "uk", range(0, 200)).values()
    )


@pytest.mark.parametrize(
    ("locale", "n", "text"),
    [
        ("uk", 1, "Знайдено 1 послугу"),
        ("uk", 3, "Знайдено 3 послуги"),
        ("uk", 5, "Знайдено 5 послуг"),
        ("uk", 21, "Знайдено 21 послугу"),
        ("ru", 2, "Найдено 2 услуги"),
        ("ru", 11, "Найдено 11 услуг"),
        ("pl", 1, "Znaleziono 1 usługę"),
        ("pl", 22, "Znaleziono 22 usługi"),
        ("pl", 25, "Znaleziono 25 usług"),
        ("de", 1, "1 Angebot gefunden"),
        ("de", 2, "2 Angebote gefunden"),
        ("ar", 0, "لم يُعثر على أي خدمة"),
        ("ar", 2, "تم العثور على خدمتين"),
        ("ar", 4, "تم العثور على 4 خدمات"),
        ("ar", 15, "تم العثور على 15 خدمة"),
    ],
)
def test_plural_messages(locale, n, text):
    with i18n.use_locale(locale):
        assert i18n.ngettext("%(num)s service found", "%(num)s services found", n) == text


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "لا توجد أماكن شاغرة"),
        (1, "مكان شاغر واحد"),
        (2, "مكانان شاغران"),
        (7, "7 أماكن شاغرة"),
        (26, "26 مكانًا شاغرًا"),
        (100, "100 مكان شاغر"),
        (111, "111 مكانًا شاغرًا"),
    ],
)
def test_arabic_has_all_six_plural_forms(n, text):
    """CLDR: zero, one, two, few (3-10), many (11-99), other (100-102); Babel's gettext order
    puts "other" before "many"."""
    with i18n.use_locale("ar"):
        assert i18n.ngettext("%(num)s free place", "%(num)s free places", n) == text


def test_all_domains_of_a_locale_are_merged(tmp_path, monkeypatch):
    folder = tmp_path / "uk" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "web.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Search"\nmsgstr "Шукати"\n',
        encoding="utf-8",
    )
    (folder / "manage.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "Sign in"\nmsgstr "Увійти"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with i18n.use_locale("uk"):
            assert i18n.gettext("Search") == "Шукати"
            assert i18n.gettext("Sign in") == "Увійти"
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()


def test_negotiation():
    assert i18n.negotiate("uk-UA,uk;q=0.9,en;q=0.8") == "uk"
    assert i18n.negotiate("fr-FR, de;q=0.5, ar;q=0.7") == "ar"
    assert i18n.negotiate("*") == "en"
    assert i18n.negotiate("", default="pl") == "pl"
    assert i18n.negotiate("de;q=0, ru") == "ru"


def test_formatting_follows_the_locale():
    now = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)
    with i18n.use_locale("uk"):
        assert i18n.format_ago(now - dt.timedelta(hours=2), now) == "2 години тому"
        assert i18n.format_distance(3.24) == "3,2 км"
        assert i18n.format_distance(0.42) == "400 м"
        assert i18n.language_name("ar") == "арабська"
    with i18n.use_locale("de"):
        assert i18n.format_ago(now - dt.timedelta(days=3), now) == "vor 3 Tagen"
        assert i18n.format_number(12345) == "12.345"
    with i18n.use_locale("ar"):
        assert i18n.text_direction() == "rtl"
        assert "ساعتين" in i18n.format_ago(now - dt.timedelta(hours=2), now)
    assert i18n.locale_name("uk") == "Українська"
    kyiv = "Europe/Kyiv"
    with i18n.use_locale("en"):
        # 16:00 UTC is 18:00 in Kyiv (EET, winter): shown in the location's own zone
        assert (
            i18n.format_when(dt.datetime(2026, 1, 5, 16, 0, tzinfo=dt.UTC), kyiv, now)
            == "6:00\u202fPM"
        )
    # later this week: the weekday, on the same clock as today's times
    friday = dt.datetime(2026, 12, 4, 0, 1, tzinfo=dt.UTC)  # 02:01 Friday in Kyiv
    thursday = dt.datetime(2026, 12, 3, 20, 0, tzinfo=dt.UTC)
    with i18n.use_locale("en"):
        assert i18n.format_when(friday, kyiv, thursday).replace("\u202f", " ") == "Fri 2:01 AM"
    with i18n.use_locale("ar"):
        text = i18n.format_when(friday, kyiv, thursday)
        assert "الجمعة" in text and "2:01" in text and "ص" in text and "02:01" not in text
    with i18n.use_locale("uk"):
        assert i18n.format_when(friday, kyiv, thursday) == "пт 02:01"
    assert Locale.parse("ar").character_order == "right-to-left"
