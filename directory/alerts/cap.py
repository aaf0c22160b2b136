"""CAP 1.2 (OASIS Common Alerting Protocol) messages in: parsed safely into plain values.

Only what the directory acts on is read: identity (`sender`, `identifier`, `sent`), `status`,
`msgType`, `references`, and per `<info>` block its language, texts, times and areas. XML is parsed
with defusedxml: a DTD, an entity declaration or an external reference is refused, so billion-laughs
and external-entity documents never expand. Anything malformed raises `CapError` with a reason.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element  # noqa: S405 (only the type; parsing goes through defusedxml)

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
_N = "{" + CAP_NS + "}"
STATUSES = frozenset({"Actual", "Exercise", "System", "Test", "Draft"})
MSG_TYPES = frozenset({"Alert", "Update", "Cancel", "Ack", "Error"})
SEVERITIES = frozenset({"Extreme", "Severe", "Moderate", "Minor", "Unknown"})
# CAP's dateTime: "2026-12-03T12:06:00+02:00" (an offset is required; "-00:00" means UTC).
_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


class CapError(ValueError):
    """A message that is not a CAP 1.2 alert the directory can act on (the reason says why)."""


@dataclass(frozen=True)
class Area:
    description: str
    geocodes: tuple[tuple[str, str], ...] = ()  # (valueName, value)
    polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # rings of (lat, lon)
    circles: tuple[tuple[float, float, float], ...] = ()  # (lat, lon, radius km)


@dataclass(frozen=True)
class Info:
    language: str  # as given ("uk-UA", "en-US"; CAP's default is "en-US")
    event: str
    severity: str
    headline: str
    description: str
    instruction: str
    effective: dt.datetime | None
    onset: dt.datetime | None
    expires: dt.datetime | None
    areas: tuple[Area, ...]


@dataclass(frozen=True)
class CapMessage:
    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    msg_type: str
    references: tuple[tuple[str, str, str], ...]  # (sender, identifier, sent) of earlier messages
    infos: tuple[Info, ...] = field(default=())

    @property
    def key(self) -> str:
        """Stable identity of this message: CAP defines it as sender + identifier."""
        return f"{self.sender}|{self.identifier}"


def parse_datetime(text: str, *, what: str) -> dt.datetime:
    text = text.strip()
    if not _DATETIME.match(text):
        raise CapError(f"{what}: {text[:40]!r} is not a CAP date-time with a UTC offset")
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CapError(f"{what}: {text[:40]!r} is not a valid date-time") from exc
    return value.astimezone(dt.UTC)


def _text(el: Element, name: str, *, required: bool = False, limit: int = 10_000) -> str:
    child = el.find(_N + name)
    value = (child.text or "").strip() if child is not None else ""
    if required and not value:
        raise CapError(f"<{name}> is missing")
    return value[:limit]


def _when(el: Element, name: str) -> dt.datetime | None:
    value = _text(el, name)
    return parse_datetime(value, what=f"<{name}>") if value else None


def _point(pair: str) -> tuple[float, float]:
    try:
        lat_s, lon_s = pair.split(",")
        lat, lon = float(Decimal(lat_s)), float(Decimal(lon_s))
    except (ValueError, InvalidOperation) as exc:
        raise CapError(f"bad coordinate pair {pair[:40]!r}") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CapError(f"coordinate out of range {pair[:40]!r}")
    return lat, lon


def _area(el: Element) -> Area:
    polygons = []
    for p in el.findall(_N + "polygon"):
        ring = tuple(_point(x) for x in (p.text or "").split())
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise CapError("a <polygon> needs at least four points, the first equal to the last")
        polygons.append(ring)
    circles = []
    for c in el.findall(_N + "circle"):
        try:
            centre, radius = (c.text or "").strip().split()
            lat, lon = _point(centre)
            circles.append((lat, lon, float(radius)))
        except ValueError as exc:
            raise CapError(f"bad <circle> {(c.text or '')[:40]!r}") from exc
    geocodes = tuple(
        (
            _text(g, "valueName", required=True, limit=100),
            _text(g, "value", required=True, limit=100),
        )
        for g in el.findall(_N + "geocode")
    )
    return Area(
        description=_text(el, "areaDesc", required=True, limit=500),
        geocodes=geocodes,
        polygons=tuple(polygons),
        circles=tuple(circles),
    )


def _info(el: Element) -> Info:
    severity = _text(el, "severity", required=True)
    if severity not in SEVERITIES:
        raise CapError(f"<severity> {severity[:20]!r} is not a CAP severity")
    return Info(
        language=_text(el, "language") or "en-US",
        event=_text(el, "event", required=True, limit=300),
        severity=severity,
        headline=_text(el, "headline", limit=300),
        description=_text(el, "description", limit=5000),
        instruction=_text(el, "instruction", limit=5000),
        effective=_when(el, "effective"),
        onset=_when(el, "onset"),
        expires=_when(el, "expires"),
        areas=tuple(_area(a) for a in el.findall(_N + "area")),
    )


def _references(text: str) -> tuple[tuple[str, str, str], ...]:
    out = []
    for item in text.split():
        parts = item.split(",")
        if len(parts) != 3:
            raise CapError(f"<references> entry {item[:60]!r} is not sender,identifier,sent")
        out.append((parts[0], parts[1], parts[2]))
    return tuple(out)


def parse_element(root: Element) -> CapMessage:
    """A parsed `<alert>` element (from a message of its own or embedded in an Atom entry)."""
    if root.tag != _N + "alert":
        raise CapError(
            f"not a CAP 1.2 alert (root element {root.tag[:80]!r}; expected namespace {CAP_NS})"
        )
    status = _text(root, "status", required=True)
    if status not in STATUSES:
        raise CapError(f"<status> {status[:20]!r} is not a CAP status")
    msg_type = _text(root, "msgType", required=True)
    if msg_type not in MSG_TYPES:
        raise CapError(f"<msgType> {msg_type[:20]!r} is not a CAP message type")
    identifier = _text(root, "identifier", required=True, limit=500)
    sender = _text(root, "sender", required=True, limit=500)
    if any(c in identifier + sender for c in " ,<&"):
        raise CapError("<identifier> and <sender> may not contain spaces, commas, < or &")
    return CapMessage(
        identifier=identifier,
        sender=sender,
        sent=parse_datetime(_text(root, "sent", required=True), what="<sent>"),
        status=status,
        msg_type=msg_type,
        references=_references(_text(root, "references", limit=20_000)),
        infos=tuple(_info(i) for i in root.findall(_N + "info")),
    )


def parse_xml(data: bytes) -> Element:
    """Parse untrusted XML: no DTD, no entities, no external references."""
    try:
        root: Element = safe_fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        return root
    except DefusedXmlException as exc:
        raise CapError(
            f"refused: {type(exc).__name__} (DTDs and entities are not accepted)"
        ) from exc
    except ParseError as exc:
        raise CapError(f"not well-formed XML: {exc}") from exc


def parse(data: bytes) -> CapMessage:
    """One CAP 1.2 message from bytes."""
    return parse_element(parse_xml(data))
