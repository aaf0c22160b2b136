"""No English in the other five languages: every page type (public, volunteer, moderator, admin,
sign-in steps, error pages) is fetched in every locale from the live test server, and each
interface text (text nodes, option labels, placeholders, aria-labels, titles) is compared with
the English page. A text in Latin script that is the same as on the English page is an
untranslated interface string — unless it is listing data marked as such (an element with
its own `lang`, e.g. a name in its original language), a proper name, an address or a number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.browser.test_layout import LOCALES, Site, _pages, serve_site

pytestmark = pytest.mark.browser

#: Elements whose text is not interface text.
SKIP = {"script", "style", "code", "pre", "textarea", "svg", "title"}
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
ATTRS = ("placeholder", "aria-label", "title", "alt")
#: Names that are the same in every language (brands, standards, the demo's test accounts).
SAME_EVERYWHERE = re.compile(
    r"^(OpenStreetMap|API|JSON|HSDS|TOTP|CSV|SMS|OK|PDF|URL|HTTP|Test org|Kowalska|"
    r"Марія Kowalska|Moderator|Admin|Volunteer)$"
)


class Texts(HTMLParser):
    """Interface texts of a page: (where, text) pairs, listing data in another language left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page_lang = ""
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.out: set[str] = set()

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.page_lang = a.get("lang") or ""
        skip = (
            self._skipped()
            or tag in SKIP
            or (tag != "html" and bool(a.get("lang")) and a.get("lang") != self.page_lang)
            or a.get("translate") == "no"
            or "data-listing" in a
        )
        if not skip:
            for name in ATTRS:
                if a.get(name):
                    self.out.add(" ".join(str(a[name]).split()))
        if tag not in VOID:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            top, _ = self.stack.pop()
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        text = " ".join(data.split())
        if text and not self._skipped():
            self.out.add(text)


def texts(html: str) -> set[str]:
    parser = Texts()
    parser.feed(html)
    return parser.out


def listing_data(db_url: str) -> set[str]:
    """Every text stored as data (names, addresses, descriptions and their translations, the
    gazetteer, organisations, change payloads, account names): shown as entered, not interface
    text."""
    from sqlalchemy import String, Text, select

    from directory.db import make_engine
    from directory.models import metadata

    out: set[str] = set()
    engine = make_engine(db_url)
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String | Text):
                    out.update(
                        " ".join(str(v).split())
                        for v in conn.scalars(select(column).where(column.is_not(None)).distinct())
                    )
    engine.dispose()
    return out


def superseded(db_url: str) -> dict[str, set[str]]:
    """locale -> record texts that have their own translation into that locale: shown untranslated
    on a page in that locale (a region picker in English), they are interface bugs, not data."""
    from sqlalchemy import select

    from directory.db import make_engine, make_sessionmaker
    from directory.listings.models import Translation
    from directory.listings.texts import ENTITY_MODELS

    out: dict[str, set[str]] = {code: set() for code in LOCALES}
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as db:
        for tr in db.scalars(select(Translation)):
            model = ENTITY_MODELS.get(tr.entity_type)
            record = db.get(model, tr.entity_id) if model is not None else None
            base = getattr(record, tr.field, None) if record is not None else None
            if isinstance(base, str) and base.strip() != tr.value.strip() and tr.locale in out:
                out[tr.locale].add(" ".join(base.split()))
    engine.dispose()
    return out


def translations(locale: str) -> set[str]:
    """The locale's own translations: one may be the same word as in English ("Name",
    "Internet")."""
    from babel.messages.pofile import read_po

    from directory.i18n.catalogs import DOMAINS, po_path

    out: set[str] = set()
    for domain in DOMAINS:
        with po_path(locale, domain).open("rb") as fh:
            for message in read_po(fh, locale=locale):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                out.update(" ".join(x.split()) for x in strings if x)
    return out


def looks_untranslated(text: str, data: set[str], own: set[str], replaced: set[str]) -> bool:
    if text in replaced:  # a record's text shown although its translation exists
        return True
    if SAME_EVERYWHERE.match(text) or "@" in text or "://" in text or text.startswith("/"):
        return False
    if text in own or text.rstrip(":") in own:
        return False

    # listing data, alone or joined by the page ("Org · City", "Street 1, City")
    def is_data(part: str) -> bool:
        part = part.strip()
        if part in data or not re.search(r"[A-Za-z]{3,}", part):
            return True
        pieces = re.split(r", |: ", part)
        return len(pieces) > 1 and all(is_data(p) for p in pieces)

    if text in data or all(is_data(p) for p in re.split(r" · | — ", text)):
        return False
    return bool(re.search(r"[A-Za-z]{3,}", text))


@pytest.fixture(scope="module")
def site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_site(browser, tmp_path_factory)


@pytest.mark.parametrize("role", ["reader", "volunteer", "moderator", "admin"])
def test_no_english_interface_text_in_other_locales(browser: Any, site: Site, role: str) -> None:
    ctx = browser.new_context(storage_state=site.states.get(role))
    problems: list[str] = []
    data = listing_data(site.db_url)
    replaced = superseded(site.db_url)
    try:
        english = {
            name: texts(ctx.request.get(site.url + path).text())
            for name, path in _pages(site, role, "en").items()
        }
        for locale in LOCALES[1:]:
            for name, path in _pages(site, role, locale).items():
                answer = ctx.request.get(site.url + path)
                assert answer.headers.get("content-language", locale) == locale, path
                own = translations(locale)
                same = sorted(
                    t
                    for t in texts(answer.text()) & english[name]
                    if looks_untranslated(t, data, own, replaced[locale])
                )
                if same:
                    problems.append(f"{name} [{locale}]: {same[:12]}")
    finally:
        ctx.close()
    assert not problems, "English left in other locales:\n" + "\n".join(problems)


def test_the_check_finds_english_and_spares_listing_data() -> None:
    page = (
        '<html lang="{lang}"><body><label>Region</label><select><option>Kyiv region</option>'
        '</select><p lang="pl">Punkt recepcyjny</p><p>Demoallee 34, Berlin</p>'
        '<input placeholder="Search"><p>Internet</p></body></html>'
    )
    en, uk = texts(page.format(lang="en")), texts(page.format(lang="uk"))
    data = {"Demoallee 34", "Berlin", "Kyiv region"}
    found = {t for t in uk & en if looks_untranslated(t, data, {"Internet"}, {"Kyiv region"})}
    # the label and placeholder were not translated; the region has a translation that was not
    # used; the address is data; the Polish name is marked with its language; "Internet" is
    # the translation
    assert found == {"Region", "Search", "Kyiv region"}
