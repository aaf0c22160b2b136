"""The map the server draws: an inline SVG of country outlines (Natural Earth, shipped in
`data/countries.json`), numbered markers, a scale bar and a north arrow. It is the map without
JavaScript, on 2G and on paper; the interactive map replaces it on screen when scripts run.

Only what the caller hands in is drawn, and the callers hand in public points only
(`directory.maps.points`: confidential places never reach this module). Coordinates are Web
Mercator like the interactive map's, rounded to whole pixels: a results page's map stays a few
kilobytes compressed (`tests/maps/test_svg.py` holds the budget).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import units as babel_units
from markupsafe import Markup, escape

from directory import i18n

DATA = Path(__file__).resolve().parent / "data" / "countries.json"
_EARTH_M = 40_075_016.686  # the equator's length, metres
#: An approximate place lies within about 1 km of its rounded point (`listings.privacy`).
APPROXIMATE_RADIUS_M = 1000.0
#: The narrowest view: about 2 km across, so one place shows its streets' scale.
MIN_SPAN_M = 2000.0

Box = tuple[float, float, float, float]  # west, south, east, north (degrees)


@dataclass(frozen=True)
class Marker:
    """One public place on the map. `number` matches the list (None: a single place)."""

    lat: float
    lon: float
    approximate: bool
    label: str
    number: int | None = None
    href: str | None = None


@dataclass(frozen=True)
class _Ring:
    box: Box
    points: tuple[tuple[float, float], ...]  # (lon, lat)


@lru_cache(maxsize=1)
def _rings() -> tuple[_Ring, ...]:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    out = []
    for country in data["countries"]:
        for ring in country["rings"]:
            lons = [p[0] for p in ring]
            lats = [p[1] for p in ring]
            box = (min(lons), min(lats), max(lons), max(lats))
            out.append(_Ring(box, tuple((float(x), float(y)) for x, y in ring)))
    return tuple(out)


def _x(lon: float) -> float:
    return (lon + 180.0) / 360.0


def _y(lat: float) -> float:
    lat = max(-85.0, min(85.0, lat))
    s = math.sin(math.radians(lat))
    return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def _lat(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


@dataclass(frozen=True)
class View:
    """The part of the world shown: world units (0..1 Mercator) of the top-left corner, the
    scale (pixels per world unit) and the size in pixels."""

    x0: float
    y0: float
    scale: float
    width: int
    height: int

    def px(self, lat: float, lon: float) -> tuple[float, float]:
        return (_x(lon) - self.x0) * self.scale, (_y(lat) - self.y0) * self.scale

    @property
    def box(self) -> Box:
        x1 = self.x0 + self.width / self.scale
        y1 = self.y0 + self.height / self.scale
        return (
            self.x0 * 360.0 - 180.0,
            _lat(y1),
            x1 * 360.0 - 180.0,
            _lat(self.y0),
        )

    @property
    def metres_per_pixel(self) -> float:
        centre = _lat(self.y0 + self.height / self.scale / 2)
        return _EARTH_M * math.cos(math.radians(centre)) / self.scale


def fit(
    points: Sequence[tuple[float, float]], width: int, height: int, min_span_m: float = MIN_SPAN_M
) -> View:
    """The view holding every (lat, lon) with a margin, at least `min_span_m` across."""
    xs = [_x(lon) for _, lon in points]
    ys = [_y(lat) for lat, _ in points]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    lat_c = _lat(cy)
    min_span = min_span_m / (_EARTH_M * max(0.05, math.cos(math.radians(lat_c))))
    span_x = max((max(xs) - min(xs)) * 1.25, min_span)
    span_y = max((max(ys) - min(ys)) * 1.3, min_span * height / width)
    scale = min(width / span_x, height / span_y)
    return View(cx - width / scale / 2, cy - height / scale / 2, scale, width, height)


_Pt = tuple[float, float]


def _clip(poly: list[tuple[float, float]], lo: float, hi_x: float, hi_y: float) -> list[Any]:
    """Sutherland-Hodgman against the rectangle [lo, hi_x] × [lo, hi_y]."""
    edges: tuple[tuple[Callable[[_Pt], bool], Callable[[_Pt, _Pt], _Pt]], ...] = (
        (lambda p: p[0] >= lo, lambda a, b: _cut_x(a, b, lo)),
        (lambda p: p[0] <= hi_x, lambda a, b: _cut_x(a, b, hi_x)),
        (lambda p: p[1] >= lo, lambda a, b: _cut_y(a, b, lo)),
        (lambda p: p[1] <= hi_y, lambda a, b: _cut_y(a, b, hi_y)),
    )
    for inside, cut in edges:
        if not poly:
            break
        out: list[tuple[float, float]] = []
        prev = poly[-1]
        for cur in poly:
            if inside(cur):
                if not inside(prev):
                    out.append(cut(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cut(prev, cur))
            prev = cur
        poly = out
    return poly


def _cut_x(a: tuple[float, float], b: tuple[float, float], x: float) -> tuple[float, float]:
    t = (x - a[0]) / (b[0] - a[0])
    return x, a[1] + t * (b[1] - a[1])


def _cut_y(a: tuple[float, float], b: tuple[float, float], y: float) -> tuple[float, float]:
    t = (y - a[1]) / (b[1] - a[1])
    return a[0] + t * (b[0] - a[0]), y


def _outlines(view: View) -> str:
    """One path of every country shape in view, clipped, in whole pixels."""
    west, south, east, north = view.box
    margin = 4.0
    parts: list[str] = []
    for ring in _rings():
        bw, bs, be, bn = ring.box
        if be < west or bw > east or bn < south or bs > north:
            continue
        poly = [view.px(lat, lon) for lon, lat in ring.points]
        poly = _clip(poly, -margin, view.width + margin, view.height + margin)
        kept: list[tuple[int, int]] = []
        for x, y in poly:
            p = (round(x), round(y))
            if not kept or abs(p[0] - kept[-1][0]) + abs(p[1] - kept[-1][1]) >= 3:
                kept.append(p)
        if len(kept) >= 3:
            # relative steps: small numbers, and repetitive ones (they compress well)
            steps = [
                f"{x - px}{'' if y - py < 0 else ' '}{y - py}"
                for (px, py), (x, y) in zip(kept, kept[1:], strict=False)
            ]
            parts.append(f"M{kept[0][0]} {kept[0][1]}l" + " ".join(steps) + "z")
    return "".join(parts)


def _scale_bar(view: View, rtl: bool) -> str:
    mpp = view.metres_per_pixel
    target = view.width * 0.25 * mpp
    length = 1.0
    for step in (1, 2, 5):
        for power in range(0, 8):
            value = step * 10.0**power
            if value <= target:
                length = max(length, value)
    px = round(length / mpp)
    if length >= 1000:
        label = babel_units.format_unit(
            round(length / 1000),
            "length-kilometer",
            "short",
            locale=i18n.babel_locale(i18n.get_locale()),
        )
    else:
        label = babel_units.format_unit(
            round(length), "length-meter", "short", locale=i18n.babel_locale(i18n.get_locale())
        )
    y = view.height - 12
    x0 = view.width - 12 - px if rtl else 12
    return (
        f'<g class="scale"><path d="M{x0} {y - 5}v5h{px}v-5"/>'
        f'<text x="{x0 + px / 2:.0f}" y="{y - 8}">{escape(label)}</text></g>'
    )


def _north(view: View, rtl: bool) -> str:
    x = 22 if rtl else view.width - 22
    title = escape(i18n.gettext("North"))
    letter = escape(i18n.pgettext("compass", "N"))
    return (
        f'<g class="north" transform="translate({x} 12)"><title>{title}</title>'
        f'<path d="M0 4l7 20-7-5-7 5z"/><text y="36">{letter}</text></g>'
    )


#: At most this many place names on one map (they orient; they are not a gazetteer).
MAX_PLACE_LABELS = 10


def _places(view: View, places: Sequence[tuple[float, float, str]]) -> str:
    """Names of the directory's own places (cities, regions) inside the view, as orientation:
    a small dot and the name, none closer than 60 px to one already drawn."""
    out: list[str] = []
    taken: list[tuple[float, float]] = []
    for lat, lon, name in places:
        x, y = view.px(lat, lon)
        if not (10 <= x <= view.width - 10 and 16 <= y <= view.height - 24):
            continue
        if any(abs(x - a) < 60 and abs(y - b) < 20 for a, b in taken):
            continue
        taken.append((x, y))
        out.append(
            f'<circle cx="{x:.0f}" cy="{y:.0f}" r="2.5"/>'
            f'<text x="{x:.0f}" y="{y - 6:.0f}">{escape(name)}</text>'
        )
        if len(taken) >= MAX_PLACE_LABELS:
            break
    return f'<g class="places">{"".join(out)}</g>' if out else ""


def _marker(view: View, m: Marker) -> str:
    x, y = view.px(m.lat, m.lon)
    x, y = round(x), round(y)
    text = "" if m.number is None else i18n.format_number(m.number)
    label = escape(m.label)
    if m.approximate:
        r = max(14, round(APPROXIMATE_RADIUS_M / view.metres_per_pixel))
        shape = f'<circle class="area" cx="{x}" cy="{y}" r="{r}"/>'
    else:
        shape = ""
    if text:
        dot = (
            f'<circle class="dot" cx="{x}" cy="{y}" r="14"/>'
            f'<text x="{x}" y="{y + 5}">{escape(text)}</text>'
        )
    else:
        dot = f'<circle class="dot" cx="{x}" cy="{y}" r="9"/>'
    body = f"<title>{label}</title>{shape}{dot}"
    cls = "m approx" if m.approximate else "m"
    if m.href:
        return f'<a class="{cls}" href="{escape(m.href)}">{body}</a>'
    return f'<g class="{cls}">{body}</g>'


def render(
    markers: Sequence[Marker],
    *,
    title: str,
    width: int = 480,
    height: int = 320,
    view: View | None = None,
    min_span_m: float = MIN_SPAN_M,
    places: Sequence[tuple[float, float, str]] = (),
) -> Markup:
    """The inline SVG of `markers` (empty markup when there is nothing to show)."""
    if not markers and view is None:
        return Markup("")
    if view is None:
        view = fit([(m.lat, m.lon) for m in markers], width, height, min_span_m)
    rtl = i18n.text_direction() == "rtl"
    # Numbered markers drawn last-first, so number 1 is on top where they overlap.
    drawn = _places(view, places) + "".join(_marker(view, m) for m in reversed(markers))
    source = escape(i18n.gettext("Boundaries: Natural Earth"))
    attribution_x = 8 if rtl else view.width - 8
    anchor = "end"  # (in a right-to-left page the end of a line is its left side)
    box = ",".join(f"{v:.4f}" for v in view.box)
    svg = (
        f'<svg class="map-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {view.width} '
        f'{view.height}" role="img" aria-label="{escape(title)}" data-box="{box}">'
        f'<rect class="sea" width="{view.width}" height="{view.height}"/>'
        f'<path class="land" d="{_outlines(view)}"/>'
        f"{drawn}{_scale_bar(view, rtl)}{_north(view, rtl)}"
        f'<text class="credit" x="{attribution_x}" y="{view.height - 4}" '
        f'text-anchor="{anchor}">{source}</text></svg>'
    )
    return Markup(svg)  # noqa: S704 - every text above is escaped
