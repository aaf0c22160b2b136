"""The feeds an operator configures, and what each kind of document says.

`DIRECTORY_ALERT_FEEDS` holds one feed per line (blank lines and `#` comments ignored):

    https://warnings.example.gov/cap/index.atom          a CAP message, or an Atom/RSS index of them
    state https://api.alerts.in.ua/v1/alerts/active.json mapping=alerts-in-ua
    state https://example.org/regions.json mapping=/etc/aid-directory/regions-mapping.json

A line may end with `geocodes=FILE` (a JSON object {valueName: {value: place code}}) to map a
feed's own area codes to the directory's places; ISO 3166-2 geocodes need no mapping.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element  # noqa: S405 (type only)

from directory.alerts.cap import CAP_NS, CapError, CapMessage, parse_element, parse_xml
from directory.config import ConfigError

ATOM_NS = "{http://www.w3.org/2005/Atom}"
_MAX_INDEX_ENTRIES = 1000


@dataclass(frozen=True)
class StateMapping:
    """How to read a region-state JSON feed: where the list is, which field names the region, when
    it started (and ended), its type, and how to authenticate. See docs/alerts.md."""

    name: str
    items: str  # dotted path to the list of alerts in force ("" = the document is the list)
    region: str  # field (dotted) naming the region
    region_codes: dict[str, str] = field(default_factory=dict)  # feed value → place code
    since: str = ""
    until: str = ""  # when present and not null, the item is over
    type: str = ""
    types: dict[str, str] = field(default_factory=dict)  # feed type → our alert type
    default_type: str = "air_raid"
    filter: dict[str, list[str]] = field(default_factory=dict)
    auth_header: str = ""
    auth_env: str = ""
    auth_prefix: str = ""

    @classmethod
    def load(cls, ref: str) -> StateMapping:
        """A shipped mapping by name (`alerts-in-ua`) or a JSON file path."""
        try:
            if "/" in ref or ref.endswith(".json"):
                raw = Path(ref).read_text(encoding="utf-8")
            else:
                raw = (
                    resources.files("directory.alerts")
                    .joinpath(f"mappings/{ref}.json")
                    .read_text(encoding="utf-8")
                )
            data = json.loads(raw)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"alert feed mapping {ref!r} cannot be read: {exc}",
                "name a shipped mapping (alerts-in-ua) or a JSON file; see docs/alerts.md",
            ) from exc
        auth = data.get("auth") or {}
        try:
            return cls(
                name=str(data.get("name") or ref),
                items=str(data.get("items", "")),
                region=str(data["region"]),
                region_codes=dict(data.get("region_codes") or {}),
                since=str(data.get("since", "")),
                until=str(data.get("until", "")),
                type=str(data.get("type", "")),
                types=dict(data.get("types") or {}),
                default_type=str(data.get("default_type", "air_raid")),
                filter={k: [str(x) for x in v] for k, v in (data.get("filter") or {}).items()},
                auth_header=str(auth.get("header", "")),
                auth_env=str(auth.get("env", "")),
                auth_prefix=str(auth.get("prefix", "")),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(
                f"alert feed mapping {ref!r} is incomplete: {exc}",
                'a mapping needs at least "region"; see docs/alerts.md',
            ) from exc

    def headers(self) -> dict[str, str]:
        if self.auth_header and self.auth_env:
            secret = os.environ.get(self.auth_env, "")
            if secret:
                return {self.auth_header: self.auth_prefix + secret}
        return {}


@dataclass(frozen=True)
class Feed:
    url: str
    kind: str = "cap"  # cap | state
    mapping: StateMapping | None = None
    geocodes: dict[str, dict[str, str]] = field(default_factory=dict)

    def headers(self) -> dict[str, str]:
        return self.mapping.headers() if self.mapping else {}


def parse_feeds(setting: str) -> list[Feed]:
    """`DIRECTORY_ALERT_FEEDS` → feeds (a `ConfigError` names the bad line)."""
    feeds: list[Feed] = []
    for n, line in enumerate(setting.splitlines(), start=1):
        words = line.split("#", 1)[0].split() if not line.lstrip().startswith("#") else []
        if not words:
            continue
        kind = "cap"
        if words[0] in ("cap", "state"):
            kind, words = words[0], words[1:]
        if not words or not words[0].startswith(("http://", "https://")):
            raise ConfigError(
                f"DIRECTORY_ALERT_FEEDS line {n}: no http(s) URL",
                "one feed per line: [state] URL [mapping=NAME|FILE] [geocodes=FILE]",
            )
        url, options = words[0], dict(w.split("=", 1) for w in words[1:] if "=" in w)
        unknown = set(options) - {"mapping", "geocodes"}
        if unknown or len(options) != len(words) - 1:
            raise ConfigError(
                f"DIRECTORY_ALERT_FEEDS line {n}: unknown option(s) {sorted(unknown) or words[1:]}",
                "options are mapping=NAME|FILE and geocodes=FILE",
            )
        mapping = None
        if kind == "state":
            if "mapping" not in options:
                raise ConfigError(
                    f"DIRECTORY_ALERT_FEEDS line {n}: a state feed needs mapping=NAME|FILE",
                    "e.g. `state https://api.alerts.in.ua/v1/alerts/active.json "
                    "mapping=alerts-in-ua`",
                )
            mapping = StateMapping.load(options["mapping"])
        geocodes: dict[str, dict[str, str]] = {}
        if "geocodes" in options:
            try:
                geocodes = json.loads(Path(options["geocodes"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(
                    f"DIRECTORY_ALERT_FEEDS line {n}: geocodes file: {exc}",
                    "a JSON object {valueName: {value: place code}}",
                ) from exc
        feeds.append(Feed(url=url, kind=kind, mapping=mapping, geocodes=geocodes))
    return feeds


# --- CAP documents: one message, or an index of them --------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    id: str
    updated: str
    url: str | None  # where the CAP message is, when not embedded
    embedded: Element | None


def read_cap_document(data: bytes) -> tuple[list[CapMessage], list[IndexEntry]]:
    """A CAP message → ([message], []); an Atom or RSS index → ([], entries)."""
    root = parse_xml(data)
    if root.tag == "{" + CAP_NS + "}alert":
        return [parse_element(root)], []
    if root.tag == ATOM_NS + "feed":
        return [], _atom_entries(root)
    if root.tag == "rss":
        return [], _rss_entries(root)
    raise CapError(f"not a CAP 1.2 message nor an Atom/RSS index (root element {root.tag[:80]!r})")


def _atom_entries(root: Element) -> list[IndexEntry]:
    out = []
    for e in root.findall(ATOM_NS + "entry")[:_MAX_INDEX_ENTRIES]:
        eid = (e.findtext(ATOM_NS + "id") or "").strip()
        updated = (e.findtext(ATOM_NS + "updated") or "").strip()
        embedded = None
        content = e.find(ATOM_NS + "content")
        if content is not None:
            embedded = content.find("{" + CAP_NS + "}alert")
        url = None
        for link in e.findall(ATOM_NS + "link"):
            href = link.get("href", "")
            rel, typ = link.get("rel", "alternate"), link.get("type", "")
            if href and ("cap" in typ or (url is None and rel in ("alternate", "related"))):
                url = href
        if embedded is None and not url:
            continue
        out.append(IndexEntry(id=eid or url or "", updated=updated, url=url, embedded=embedded))
    return out


def _rss_entries(root: Element) -> list[IndexEntry]:
    out = []
    channel = root.find("channel")
    for item in (channel.findall("item") if channel is not None else [])[:_MAX_INDEX_ENTRIES]:
        url = (item.findtext("link") or "").strip()
        if not url:
            continue
        guid = (item.findtext("guid") or url).strip()
        out.append(
            IndexEntry(
                id=guid, updated=(item.findtext("pubDate") or "").strip(), url=url, embedded=None
            )
        )
    return out


# --- region-state JSON --------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionState:
    """One region with an alert in force, as a state feed reports it."""

    code: str  # the directory's place code (ISO 3166-2)
    since: dt.datetime | None
    alert_type: str


class StateError(ValueError):
    """A state document that does not have the declared shape."""


def _get(obj: Any, path: str) -> Any:
    for part in [p for p in path.split(".") if p]:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise StateError(f"bad time {value[:40]!r}") from exc
    if when.tzinfo is None:
        raise StateError(f"time {value[:40]!r} has no UTC offset")
    return when.astimezone(dt.UTC)


def read_state_document(data: bytes, mapping: StateMapping) -> list[RegionState]:
    """The regions with an alert in force (one entry per region: the earliest `since` wins)."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise StateError(f"not JSON: {exc}") from exc
    items = _get(doc, mapping.items) if mapping.items else doc
    if not isinstance(items, list):
        raise StateError(f"{mapping.items or 'the document'!r} is not a list")
    found: dict[str, RegionState] = {}
    for item in items:
        if not isinstance(item, dict):
            raise StateError("an item is not an object")
        if any(str(_get(item, k)) not in v for k, v in mapping.filter.items()):
            continue
        if mapping.until and _get(item, mapping.until) not in (None, ""):
            continue  # over
        raw = _get(item, mapping.region)
        if raw is None:
            raise StateError(f"an item has no {mapping.region!r}")
        code = mapping.region_codes.get(str(raw), str(raw) if not mapping.region_codes else "")
        if not code:
            continue  # a region the mapping does not know (reported by the caller as unmapped)
        raw_type = str(_get(item, mapping.type) or "") if mapping.type else ""
        alert_type = (
            mapping.types.get(raw_type, mapping.default_type) if raw_type else mapping.default_type
        )
        since = _when(_get(item, mapping.since)) if mapping.since else None
        prev = found.get(code)
        if prev is None or (since and (prev.since is None or since < prev.since)):
            found[code] = RegionState(code=code, since=since, alert_type=alert_type)
    return sorted(found.values(), key=lambda s: s.code)
