"""Extract translatable strings and update the catalogs: `python -m directory.i18n.catalogs update`.

One .pot template per domain (translations/<domain>.pot) and one .po per locale and domain. The
running app reads the .po files directly (see `directory.i18n.translations`): no compile step.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg as _babel_parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from directory.config import UI_LOCALES
from directory.i18n import SOURCE_LOCALE, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
#: Babel's own function (unannotated there), with the types `extract_from_dir` takes.
parse_mapping_cfg: Callable[[IO[str]], tuple[list[tuple[str, str]], dict[str, dict[str, Any]]]] = (
    _babel_parse_mapping_cfg
)
#: Catalog domains and the folders (relative to the repository) whose strings they hold.
#: The volunteer app adds `"manage": ("directory/manage",)` here.
DOMAINS: dict[str, tuple[str, ...]] = {
    # (listings: the names of its vocabularies readers see, e.g. the kinds of notices)
    "web": ("directory/web", "directory/i18n", "directory/listings", "directory/maps"),
    "manage": ("directory/manage",),
    "alerts": ("directory/alerts",),
}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "lazy_gettext": None,
    "_l": None,
    "lazy_pgettext": ((1, "c"), 2),
    "N_": None,
}
COPYRIGHT = "aid-directory contributors"


def extract(domain: str) -> Catalog:
    """A fresh template catalog of `domain`, extracted from its folders with babel.cfg."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    template = Catalog(
        project="aid-directory", copyright_holder=COPYRIGHT, charset="utf-8", fuzzy=False
    )
    for folder in DOMAINS[domain]:
        base = ROOT / folder
        for filename, lineno, message, comments, context in extract_from_dir(
            base,
            method_map,
            options_map,
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        ):
            path = (Path(folder) / filename).as_posix()
            template.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return template


def msgids(catalog: Iterable[object]) -> set[tuple[str | None, str]]:
    """The (context, msgid) pairs of a catalog, without its header."""
    out = set()
    for message in catalog:
        msg_id = message.id  # type: ignore[attr-defined]
        if not msg_id:
            continue
        key = msg_id[0] if isinstance(msg_id, tuple) else msg_id
        out.add((message.context, key))  # type: ignore[attr-defined]
    return out


def is_translated(message: object) -> bool:
    string = message.string  # type: ignore[attr-defined]
    return all(string) if isinstance(string, tuple | list) else bool(string)


def pot_path(domain: str) -> Path:
    return TRANSLATIONS_DIR / f"{domain}.pot"


def po_path(locale: str, domain: str) -> Path:
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def _write_if_changed(path: Path, catalog: Catalog, **options: object) -> None:
    """Write a catalog unless only its dates would change (no churn in other people's files)."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, **options)  # type: ignore[arg-type]
    new = buffer.getvalue()
    if path.exists() and _undated(path.read_bytes()) == _undated(new):
        return
    path.write_bytes(new)


def _undated(raw: bytes) -> bytes:
    return b"\n".join(
        line
        for line in raw.splitlines()
        if not line.startswith((b'"POT-Creation-Date:', b'"PO-Revision-Date:'))
    )


def _same_plural_forms_as_siblings(catalog: Catalog, locale: str) -> None:
    """A new domain takes the plural rule of the locale's existing catalogs, not the one this Babel
    writes: the domains are merged into one translation object, which has ONE plural function (the
    first file's), and Babel versions order Arabic's forms differently (2.19: "many" before
    "other")."""
    for sibling in sorted(po_path(locale, "web").parent.glob("*.po")):
        with sibling.open("rb") as fh:
            existing = read_po(fh, locale=locale)
        catalog.mime_headers = [("Plural-Forms", existing.plural_forms)]
        return


def update() -> list[str]:
    """Write each domain's .pot and bring every locale's .po in line with it."""
    report = []
    for domain in DOMAINS:
        template = extract(domain)
        TRANSLATIONS_DIR.mkdir(parents=True, exist_ok=True)
        _write_if_changed(pot_path(domain), template)
        for locale in UI_LOCALES:
            if locale == SOURCE_LOCALE:
                continue
            path = po_path(locale, domain)
            if path.exists():
                with path.open("rb") as fh:
                    catalog = read_po(fh, locale=locale, domain=domain)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                catalog = Catalog(
                    locale=locale,
                    domain=domain,
                    project="aid-directory",
                    copyright_holder=COPYRIGHT,
                    charset="utf-8",
                    fuzzy=False,
                )
                _same_plural_forms_as_siblings(catalog, locale)
            # Fuzzy guesses stay out: a wrong guess shown to a person in need is worse than
            # English, and the completeness test points at every missing string.
            catalog.update(template, no_fuzzy_matching=True)
            _write_if_changed(path, catalog, ignore_obsolete=True)
            missing = sum(1 for m in catalog if m.id and not is_translated(m))
            report.append(f"{locale}/{domain}: {len(catalog)} messages, {missing} untranslated")
    return report


def main(argv: list[str]) -> int:
    if argv[1:] != ["update"]:
        print("usage: python -m directory.i18n.catalogs update")
        return 2
    for line in update():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
