"""The aid-directory HSDS profile: what HSDS 3.1 does not have (shelter facts, crisis status
and "until", open during alerts, privacy and redaction, translations, verification, demo
marks...), written as the HSDS profiles specification defines a profile.

- `profile/<name>.json` (beside this file) are the profile's modifications: one JSON Merge
  Patch (RFC 7386) per HSDS schema file, named like the file it modifies (`service.json`,
  `location.json`, ..., `openapi.json`).
- `hsds-3.1/` is a copy of the canonical HSDS 3.1 schema files the patches apply to (Open
  Referral, CC BY-SA 4.0: LICENSE and VERSION.txt beside them).
- `compiled_schema(name)` is the merge of the two (compiled once per process, on first use);
  `compiled_schema(name, strict=True)` additionally forbids properties neither HSDS nor the
  profile defines, the check Open Referral's CI runs on profiles.

Served at `PROFILE_PATH` (`/hsds/profile/`, `directory.exchange.profile.routes`): the canonical
profile document, the modifications under `profile/` and the compiled schemas under `schema/`
(relative `$ref`s between them resolve there). The HSDS API root declares `profile_url()`.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASE_DIR = HERE / "hsds-3.1"
PATCH_DIR = HERE / "profile"

#: The profile's stable address (the canonical URI is the site's origin + this path).
PROFILE_PATH = "/hsds/profile/"
#: Semantic version of the profile itself (independent of HSDS, as the specification asks).
PROFILE_VERSION = "1.0.0"
HSDS_VERSION = "3.1"
NAME = "aid-directory crisis profile"


def profile_url(base_url: str = "") -> str:
    """The profile's URI: `base_url` (the site's origin, e.g. `https://help.example.org`, or
    the request's base URL) + `/hsds/profile/`. Without a base: the path alone."""
    return base_url.rstrip("/") + PROFILE_PATH


def schema_url(name: str, base_url: str = "") -> str:
    """Where the compiled schema `name` (e.g. `service.json`) is served."""
    return profile_url(base_url) + "schema/" + name


def schema_names() -> list[str]:
    """Every schema file of HSDS 3.1 (and of the profile), e.g. `service.json`, `openapi.json`."""
    names = {p.name for p in BASE_DIR.glob("*.json")} | {p.name for p in PATCH_DIR.glob("*.json")}
    return sorted(names)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: `patch` applied to `target` (neither is changed)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


@cache
def _patch(name: str) -> Any:
    return _read(PATCH_DIR / name)


def patch(name: str) -> Any:
    """The profile's modification of `name` (a JSON Merge Patch), or None if it has none."""
    return copy.deepcopy(_patch(name))


@cache
def _compiled(name: str) -> Any:
    if name not in schema_names():
        raise KeyError(name)
    base, change = _read(BASE_DIR / name), _patch(name)
    return merge_patch(base, change) if change is not None else base


def compiled_schema(name: str, *, strict: bool = False) -> dict[str, Any]:
    """The profile's schema `name` (`service.json`, `location.json`, ..., `openapi.json`): the
    HSDS 3.1 file with the profile's merge patch applied. `strict`: every object schema that
    lists its properties also says `additionalProperties: false`. KeyError for an unknown name."""
    if not name.endswith(".json"):
        name += ".json"
    schema = copy.deepcopy(_compiled(name))
    return _strict(schema) if strict else schema


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        for value in node.values():
            _strict(value)
        if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
            node["additionalProperties"] = False
    elif isinstance(node, list):
        for value in node:
            _strict(value)
    return node


def document(base_url: str = "") -> dict[str, Any]:
    """The canonical profile resource served at `profile_url()`."""
    here = profile_url(base_url)
    return {
        "name": NAME,
        "version": PROFILE_VERSION,
        "hsds_version": HSDS_VERSION,
        "url": here,
        "description": (
            "HSDS 3.1 with the facts a crisis directory needs: shelter facts, crisis status "
            "and until when, open during air-raid alerts, privacy of a place and the redaction "
            "rule of public exports, translations, verification, demo marks."
        ),
        "documentation": "docs/exchange.md#the-hsds-profile (in the software's source)",
        "redaction": REDACTION_RULE,
        "profile": {
            n: here + "profile/" + n for n in sorted(p.name for p in PATCH_DIR.glob("*.json"))
        },
        "schema": {n: here + "schema/" + n for n in schema_names()},
    }


#: The profile's redaction rule for places (`x_privacy`), as every public export and the HSDS
#: API apply it (`directory.listings.privacy`, the one rule of every public read path).
REDACTION_RULE = {
    "exact": "published as stored",
    "approximate": (
        "latitude and longitude rounded to 2 decimals (about 1 km); no street address, postal "
        "code or attention line, no description, directions or accessibility details (name, "
        "city, region and country stay); `x_redacted: true`"
    ),
    "confidential": (
        "no coordinates, no name, no address, no city, no description, directions or "
        "accessibility details, only hotline phones; the region stays; `x_redacted: true`"
    ),
    "admin": (
        "an admin's export (`--include-confidential`, `x_export_scope: admin-confidential`) "
        "carries every place in full and never leaves the moderators' hands"
    ),
}
