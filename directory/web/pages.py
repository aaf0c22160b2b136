"""What each public page shows: small functions that turn a request into the template context by
calling the read path (`directory.listings.queries`). No SQL and no business rule here."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request

from directory import i18n
from directory.config import Settings
from directory.i18n import lazy_gettext as _l
from directory.search.amenities import FLAG_PARAMS

#: Yes/no filters: query parameter = SearchParams field, with the label the reader sees (the
#: names are `search.amenities.FLAG_PARAMS`; a test keeps them the same).
TOGGLES: tuple[tuple[str, Any], ...] = (
    ("open_now", _l("Open now")),
    ("has_capacity", _l("Free places")),
    ("free", _l("Free of charge")),
    ("wheelchair", _l("Wheelchair access")),
    ("pets", _l("Pets allowed")),
    ("women_children", _l("Women and children only")),
    ("heating", _l("Heating")),
    ("power", _l("Power and charging")),
    ("water", _l("Drinking water")),
    ("internet", _l("Internet")),
)
SORTS: tuple[tuple[str, Any], ...] = (
    ("relevance", _l("Best match")),
    ("distance", _l("Nearest first")),
)
#: Languages a reader may look for staff speaking (ISO 639-1), shown by their own names.
SPOKEN_LANGUAGES: tuple[str, ...] = ("uk", "ru", "en", "pl", "de", "ar", "ro", "cs", "sk", "hu")
SHELTER_TYPES: dict[str, Any] = {
    "air_raid_shelter": _l("Air-raid shelter"),
    "collective_centre": _l("Collective centre"),
    "emergency_accommodation": _l("Emergency accommodation"),
    "warming_point": _l("Warming point"),
    "charging_point": _l("Charging point"),
}
#: Facts about a place (LocationView.amenities fields), as a reader reads them.
AMENITIES: tuple[tuple[str, Any], ...] = (
    ("heating", _l("Heating")),
    ("power", _l("Power and charging")),
    ("water", _l("Drinking water")),
    ("internet", _l("Internet")),
    ("toilets", _l("Toilets")),
    ("wheelchair", _l("Wheelchair access")),
    ("pets", _l("Pets allowed")),
    ("women_children", _l("Women and children only")),
    ("open_24_7", _l("Open 24 hours")),
)
NEGATIVE_AMENITIES: dict[str, Any] = {
    "wheelchair": _l("No wheelchair access"),
    "pets": _l("No pets"),
}
#: Who a service is for (service.audience codes).
AUDIENCE: dict[str, Any] = {
    "any_nationality": _l("people of any nationality"),
    "idp": _l("internally displaced people"),
    "refugees": _l("refugees"),
    "children": _l("children"),
    "families": _l("families"),
    "women": _l("women"),
    "elderly": _l("older people"),
    "disabled": _l("people with disabilities"),
    "students": _l("students"),
    "foreigners": _l("foreign citizens"),
    "veterans": _l("veterans"),
}
PER_PAGE = 20
_TRUE = {"1", "on", "true", "yes"}


def base_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return (settings.base_url or str(request.base_url)).rstrip("/")


def locale_url(request: Request, code: str) -> str:
    """The current page in another language: same path and query, other locale prefix."""
    parts = request.url.path.lstrip("/").split("/", 1)
    rest = parts[1] if len(parts) > 1 else ""
    query = request.url.query
    return f"/{code}/{rest}" + (f"?{query}" if query else "")


def base_context(request: Request, locale: str) -> dict[str, Any]:
    """What the base layout needs on every page (also used by the volunteer app)."""
    settings: Settings = request.app.state.settings
    origin = base_url(request)
    languages = [
        {"code": code, "name": i18n.locale_name(code), "url": locale_url(request, code)}
        for code in i18n.available_locales()
    ]
    return {
        "locale": locale,
        "dir": i18n.text_direction(locale),
        "languages": languages,
        "origin": origin,
        "canonical": origin + locale_url(request, locale),
        "x_default": origin + locale_url(request, settings.default_locale),
        "demo": settings.demo,
        "fragment": False,
        "home_zone": settings.timezone,  # times in another zone get it named
    }


def web_manifest(locale: str, *, static: Any) -> dict[str, Any]:
    """The web app manifest in `locale`: installs as the directory in that language (its start
    page), standalone, with our own icons; works offline through the service worker."""
    from directory.i18n import gettext as _

    return {
        "name": _("Aid directory"),
        "short_name": _("Aid directory"),
        "description": _(
            "Shelters, warming points, food, medical and legal help for people displaced by war: "
            "open now, near you, in your language."
        ),
        "lang": locale,
        "dir": i18n.text_direction(locale),
        "id": f"/{locale}/",
        "start_url": f"/{locale}/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [
            {"src": static("img/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("img/icon-maskable-192.png"),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "maskable",
            },
            {
                "src": static("img/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


# --- search parameters --------------------------------------------------------------------------


@dataclass
class Filters:
    """The reader's search as parsed from the query string (every state is a link)."""

    q: str = ""
    category: str = ""
    place: str = ""
    language: str = ""
    sort: str = "relevance"
    page: int = 1
    near: tuple[float, float] | None = None
    toggles: dict[str, bool] = field(default_factory=dict)
    alert: bool = False  # open during air-raid alerts first (an ordering)
    view: str = "list"  # list | map (the same search drawn on a map)

    @classmethod
    def parse(cls, query: QueryParams) -> Filters:
        def text(name: str, limit: int = 200) -> str:
            return " ".join(query.get(name, "").split())[:limit]

        sort = query.get("sort", "relevance")
        try:
            page = max(1, min(int(query.get("page", "1")), 1000))
        except ValueError:
            page = 1
        return cls(
            q=text("q"),
            category=text("category", 100),
            place=text("place", 64),
            language=text("language", 12),
            sort=sort if sort in dict(SORTS) else "relevance",
            page=page,
            near=parse_near(query.get("near", "")),
            toggles={name: query.get(name, "").lower() in _TRUE for name, _ in TOGGLES},
            alert=query.get("alert", "").lower() in _TRUE,
            view="map" if query.get("view") == "map" else "list",
        )

    def query(self, **changes: Any) -> str:
        """The query string of this search with some values changed (for links)."""
        values: dict[str, Any] = {
            "q": self.q,
            "category": self.category,
            "place": self.place,
            "language": self.language,
            **{k: "1" for k, v in self.toggles.items() if v},
            "near": self.near_value,
            "sort": self.sort if self.sort != "relevance" else "",
            "alert": "1" if self.alert else "",
            "page": self.page if self.page > 1 else "",
            "view": "map" if self.view == "map" else "",
        }
        values.update(changes)
        kept = {
            k: v
            for k, v in values.items()
            if v not in (None, "", False) and not (k == "page" and v == 1)
        }
        return urlencode(kept)

    @property
    def near_value(self) -> str:
        return f"{self.near[0]:.2f},{self.near[1]:.2f}" if self.near else ""

    @property
    def active(self) -> int:
        """How many filters of the (collapsed) filter panel narrow the list."""
        return sum(self.toggles.values()) + bool(self.category) + bool(self.language)


def parse_near(value: str) -> tuple[float, float] | None:
    """'50.45,30.52' → (50.45, 30.52), rounded to about a kilometre; anything else → None."""
    try:
        lat_s, lon_s = value.split(",", 1)
        lat, lon = round(float(lat_s), 2), round(float(lon_s), 2)
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


# --- pages ----------------------------------------------------------------------------------------


def home_context(
    db: Session, request: Request, *, locale: str, now: dt.datetime, settings: Settings
) -> dict[str, Any]:
    from directory.listings import queries

    categories = queries.list_categories(db, locale=locale)
    places = queries.list_places(db, locale=locale)
    # The reader's region: chosen (`?place=`) or located (`?near=`); else none (no cookies).
    place = str(request.query_params.get("place", ""))[:80]
    near = parse_near(str(request.query_params.get("near", ""))[:40])
    return {
        **base_context(request, locale),
        "categories": categories,
        "places": places,
        "board": reader_notices(
            db, locale=locale, now=now, settings=settings, place=place, near=near
        ),
        "filters": Filters(place=place),
        # the alert's "nearest shelter" link keeps the position the reader shared (2 decimals)
        "near_param": f"{near[0]:.2f},{near[1]:.2f}" if near else "",
    }


def reader_notices(
    db: Session,
    *,
    locale: str,
    now: dt.datetime,
    settings: Settings,
    place: str = "",
    near: tuple[float, float] | None = None,
    place_ids: tuple[uuid.UUID | None, ...] = (),
) -> Any:
    """The notices at the top of a page about a chosen place, a position or `place_ids`
    (a listing's places); with none of them, nationwide ones and a line per other region."""
    from directory.listings import notices

    ids = list(place_ids)
    if place:
        ids.append(notices.place_id_of(db, place, locale=locale))
    elif near is not None and not ids:
        ids.append(notices.region_near(db, near, locale=locale))
    board = notices.notice_board(
        db, locale=locale, now=now, timezone=settings.timezone, place_ids=ids
    )
    return with_alert_state(db, board, locale=locale, now=now, settings=settings)


def with_alert_state(
    db: Session, board: Any, *, locale: str, now: dt.datetime, settings: Settings
) -> Any:
    """The board with the alert feeds' state: alerts of its region that ended a short while ago,
    and since when the alert status is unknown (a configured feed gone silent)."""
    import dataclasses

    from directory.alerts import status

    regions = [board.region.id] if board.region is not None else []
    return dataclasses.replace(
        board,
        ended=tuple(
            status.recently_ended(
                db, locale=locale, region_ids=regions, now=now, timezone=settings.timezone
            )
        ),
        unknown_since=status.status_unknown_since(db, settings, now=now),
    )


def search_context(
    db: Session, request: Request, *, locale: str, now: dt.datetime, settings: Settings
) -> dict[str, Any]:
    from directory.listings import queries

    filters = Filters.parse(request.query_params)
    categories = queries.list_categories(db, locale=locale)
    places = queries.list_places(db, locale=locale)
    params = search_params(db, filters, locale=locale, now=now, places=places)
    results = queries.search_services(db, params, stale_after_days=settings.stale_after_days)
    pages_total = max(1, -(-results.total // PER_PAGE))
    title = search_title(filters, categories, places)
    return {
        "page_title": title,
        "count_text": i18n.ngettext(
            "%(num)s service found",
            "%(num)s services found",
            results.total,
            num=i18n.format_number(results.total),
        )
        if results.total_exact
        else i18n.ngettext(  # counting stopped at the cap
            "More than %(num)s service found",
            "More than %(num)s services found",
            results.total,
            num=i18n.format_number(results.total),
        ),
        **base_context(request, locale),
        "filters": filters,
        "results": results,
        "pages_total": pages_total,
        "categories": categories,
        "places": places,
        "toggles": TOGGLES,
        "sorts": SORTS,
        "spoken_languages": SPOKEN_LANGUAGES,
        "now": now,
        "zone": settings.timezone,
        "board": reader_notices(
            db, locale=locale, now=now, settings=settings, place=filters.place, near=filters.near
        ),
        "near_param": filters.near_value,
        "map": results_map(request, filters, results, locale=locale, title=title, places=places)
        if filters.view == "map"
        else None,
    }


def search_params(
    db: Session,
    filters: Filters,
    *,
    locale: str,
    now: dt.datetime,
    places: list[Any] | None = None,
) -> Any:
    """The read path's parameters of a reader's search (the list's, its map's and its map
    data's)."""
    from directory.listings import queries

    near = filters.near
    if near is None and filters.sort == "distance" and filters.place:
        # Without the phone's position, "nearest" means nearest to the centre of the chosen place.
        if places is None:
            places = queries.list_places(db, locale=locale)
        place = find_place(places, filters.place)
        if place and place.latitude is not None and place.longitude is not None:
            near = (place.latitude, place.longitude)
    flags: dict[str, Any] = {name: filters.toggles[name] for name in FLAG_PARAMS}
    return queries.SearchParams(
        q=filters.q,
        category=filters.category or None,
        place=filters.place or None,
        language=filters.language or None,
        near=near,
        sort="distance" if filters.sort == "distance" and near else "relevance",
        page=filters.page,
        per_page=PER_PAGE,
        locale=locale,
        now=now,
        alert_first=filters.alert,
        **flags,
    )


def map_places(places: list[Any]) -> list[tuple[float, float, str]]:
    """The directory's cities, then regions, as names to orient a drawn map."""
    order = {"city": 0, "region": 1}
    return [
        (p.latitude, p.longitude, str(p.name.value))
        for p in sorted(places, key=lambda p: order.get(p.kind, 2))
        if p.latitude is not None and p.longitude is not None and p.kind in order
    ]


def results_map(
    request: Request,
    filters: Filters,
    results: Any,
    *,
    locale: str,
    title: str,
    places: list[Any],
) -> dict[str, Any]:
    """The map view of a result page: the drawn SVG (markers numbered like the list) and what
    the interactive map needs (`directory.maps`)."""
    from directory.maps import points, svg
    from directory.web.templating import manifest

    settings: Settings = request.app.state.settings
    first = (results.page - 1) * results.per_page + 1
    markers = points.page_markers(results.items, first_number=first, locale=locale)
    label = i18n.gettext("Map: %(title)s", title=title)
    return {
        "svg": svg.render(markers, title=label, places=map_places(places)),
        "first": first,
        "markers": len(markers),
        "ids": [str(card.id) for card in results.items],
        "data_url": f"/{locale}/search/map-data?" + filters.query(page="", view=""),
        "outlines": manifest().url("map/outlines.json"),
        "pmtiles": "/map/tiles.pmtiles" if settings.map_pmtiles else "",
        "tile_url": settings.map_tile_url,
        "tile_attribution": settings.map_tile_attribution,
        # the map's "near me": this search, by distance from the position the reader shares
        "near_fields": [
            (k, v)
            for k, v in parse_qsl(filters.query(page="", near="", sort="distance", view="map"))
            if k != "near"
        ],
    }


def find_place(places: list[Any], value: str) -> Any:
    return next((p for p in places if value in (p.code, str(p.id))), None)


def find_category(categories: list[Any], code: str) -> Any:
    for cat in categories:
        if cat.code == code:
            return cat
        found = find_category(list(cat.children), code)
        if found is not None:
            return found
    return None


def search_title(filters: Filters, categories: list[Any], places: list[Any]) -> str:
    """A title that says what the list is ("Shelter in Kharkiv"), for tabs, shares and print."""
    category = find_category(categories, filters.category) if filters.category else None
    place = find_place(places, filters.place) if filters.place else None
    if filters.q:
        return i18n.gettext("Results for “%(query)s”", query=filters.q)
    if category and place:
        return i18n.gettext(
            "%(category)s in %(place)s", category=category.label.value, place=place.name.value
        )
    if category:
        return str(category.label.value)
    if place:
        return i18n.gettext("Help in %(place)s", place=place.name.value)
    if filters.near:
        return i18n.gettext("Help near you")
    return i18n.gettext("All services")


def service_context(
    db: Session,
    request: Request,
    *,
    locale: str,
    service_id: uuid.UUID,
    now: dt.datetime,
    settings: Settings,
    report: Any = None,
) -> dict[str, Any]:
    from directory.exchange.osm.attribution import service_attribution
    from directory.listings import queries
    from directory.web import forms, structured_data

    detail = queries.get_service_detail(
        db, service_id, locale=locale, now=now, stale_after_days=settings.stale_after_days
    )
    if detail is None:
        raise HTTPException(status_code=404)
    zone = detail.locations[0].timezone if detail.locations else settings.timezone
    where = tuple(p.id for loc in detail.locations for p in (loc.region, loc.city) if p is not None)
    base = base_context(request, locale)
    return {
        **base,
        "json_ld": structured_data.script(
            structured_data.service_json_ld(detail, locale=locale, url=base["canonical"])
        ),
        # (a listing with no known place: nationwide notices only)
        "board": reader_notices(db, locale=locale, now=now, settings=settings, place_ids=where)
        if where
        else replace(reader_notices(db, locale=locale, now=now, settings=settings), elsewhere=()),
        "service": detail,
        "location_maps": location_maps(detail, map_places(queries.list_places(db, locale=locale))),
        "data_attribution": service_attribution(db, service_id),
        "now": now,
        "today_weekday": now.astimezone(ZoneInfo(zone)).weekday(),
        "zone": zone,
        "shelter_types": SHELTER_TYPES,
        "amenity_labels": AMENITIES,
        "negative_labels": NEGATIVE_AMENITIES,
        "audience": [AUDIENCE[code] for code in detail.audience if code in AUDIENCE],
        "report": report or forms.ReportResult(),
        "report_kinds": forms.REPORT_KINDS,
        "report_token": forms.make_token(settings.form_secret, service_id),
    }


def location_maps(detail: Any, places: list[tuple[float, float, str]]) -> dict[Any, Any]:
    """A small drawn map of each public place of a service page (none for confidential ones)."""
    from directory.maps import points, svg

    out = {}
    for loc in detail.locations:
        markers = points.location_markers([loc], label=str(detail.name.value))
        if markers:
            title = i18n.gettext("Map: %(title)s", title=markers[0].label)
            # wide enough (~150 km) to show where the place is: the outlines have no streets
            out[loc.id] = svg.render(
                markers, title=title, width=480, height=240, min_span_m=200_000, places=places
            )
    return out


def reported_context(
    db: Session, request: Request, *, locale: str, service_id: uuid.UUID, now: dt.datetime
) -> dict[str, Any]:
    settings: Settings = request.app.state.settings
    from directory.listings import queries

    detail = queries.get_service_detail(
        db, service_id, locale=locale, now=now, stale_after_days=settings.stale_after_days
    )
    if detail is None:
        raise HTTPException(status_code=404)
    return {**base_context(request, locale), "service": detail}


def sitemap_xml(db: Session, request: Request, *, now: dt.datetime) -> str:
    """Home and about in every language, and every public service page, with hreflang links."""
    from directory.listings import queries

    settings: Settings = request.app.state.settings
    origin = base_url(request)
    paths = ["", "about"]
    locales = i18n.available_locales()
    # A sitemap file holds at most 50,000 URLs (sitemaps.org); beyond that, the pages stay
    # reachable through the result lists.
    limit = 50_000 // len(locales)
    page = 1
    while len(paths) < limit:
        params = queries.SearchParams(
            page=page, per_page=100, locale=settings.default_locale, now=now
        )
        results = queries.search_services(db, params, stale_after_days=settings.stale_after_days)
        paths += [f"services/{card.id}" for card in results.items][: limit - len(paths)]
        if page * 100 >= results.total or not results.items:
            break
        page += 1
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for path in paths:
        for code in locales:
            out.append(f"<url><loc>{escape(f'{origin}/{code}/{path}')}</loc>")
            out.extend(
                f'<xhtml:link rel="alternate" hreflang="{alt}" '
                f'href="{escape(f"{origin}/{alt}/{path}")}"/>'
                for alt in locales
            )
            out.append("</url>")
    out.append("</urlset>")
    return "\n".join(out) + "\n"
