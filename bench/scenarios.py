"""The request types the benchmark measures, with their URLs taken from the generated data.

Every type is a list of paths (wrk picks one at random per request). Before any load, each type
is probed once per path sample: a type whose paths do not answer 200 is reported as unavailable
(with the status seen) instead of being measured as errors.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode

from sqlalchemy import create_engine, text

from bench.server import Client

#: Text queries. Latin, Cyrillic and transliterated (Latin spelling of Cyrillic-only words),
#: and the hard cases. Chosen from the generator's vocabulary (directory/demo/generate.py);
#: the run records how many services each matches (API `total`) so the choice stays honest.
QUERIES: dict[str, list[tuple[str, str]]] = {
    # (locale, query)
    "search_latin": [
        ("en", "shelter"),
        ("en", "legal aid"),
        ("en", "warming points"),
        ("pl", "pomoc prawna"),
        ("de", "Unterkunft"),
    ],
    "search_cyrillic": [
        ("uk", "укриття"),
        ("uk", "Харків"),
        ("ru", "Одесса"),
        ("uk", "правова допомога"),
    ],
    # Latin spellings of Cyrillic words (what a reader without a Cyrillic keyboard types)
    "search_translit": [
        ("en", "ukryttia"),
        ("en", "kharkov"),
        ("en", "pravova dopomoha"),
        ("en", "obihrivu"),
    ],
    "search_common": [("en", "demo"), ("uk", "дані")],
    "search_prefix": [("en", "s"), ("uk", "к")],
    "search_nomatch": [("en", "zzyzxqv"), ("uk", "щщщжжж")],
}
CATEGORY_PREFERENCE = ["shelter", "food", "health", "heat-power", "legal-documents"]
HX = {"HX-Request": "true"}


@dataclass
class RequestType:
    name: str
    label: str
    group: str  # search (budget 30 ms) | service (10 ms) | page | api | floor
    paths: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    available: bool = True
    note: str = ""
    probe: dict[str, object] = field(default_factory=dict)


LABELS = {
    "static": "static file (floor)",
    "home": "home page",
    "search_latin": "search, Latin",
    "search_cyrillic": "search, Cyrillic",
    "search_translit": "search, transliterated",
    "search_common": "search, word in most listings",
    "search_prefix": "search, one-letter prefix",
    "search_nomatch": "search, no match",
    "filter": "category + region filter",
    "near": "near-me sort",
    "service": "service page",
    "fragment": "htmx results fragment",
    "api_search": "API search",
}
GROUPS = {
    "static": "floor",
    "home": "page",
    "service": "service",
    "fragment": "search",
    "api_search": "api",
    "filter": "search",
    "near": "search",
    **dict.fromkeys(QUERIES, "search"),
}
API_SEARCH_PATHS = ("/api/v1/services", "/api/v1/search")


def _search(locale: str, **params: str) -> str:
    return f"/{locale}/search?" + urlencode(params, quote_via=quote)


@dataclass
class Vocabulary:
    categories: list[str]
    regions: list[str]
    cities: list[tuple[float, float]]
    service_ids: list[str]


def vocabulary(database_url: str, *, seed: int, ids: int = 150) -> Vocabulary:
    """Categories, regions, city coordinates and a random sample of service ids from the data."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        codes = set(
            conn.execute(
                text(
                    "SELECT code FROM taxonomy_term WHERE parent_id IS NULL AND archived_at IS NULL"
                )
            ).scalars()
        )
        regions = sorted(
            conn.execute(
                text("SELECT code FROM place WHERE kind = 'region' AND code IS NOT NULL")
            ).scalars()
        )
        cities = [
            (float(a), float(b))
            for a, b in conn.execute(
                text(
                    "SELECT latitude, longitude FROM place WHERE kind = 'city'"
                    " AND latitude IS NOT NULL ORDER BY name"
                )
            )
        ]
        all_ids = list(
            conn.execute(
                text(
                    "SELECT id FROM service WHERE archived_at IS NULL"
                    " AND status NOT IN ('inactive', 'defunct') ORDER BY id"
                )
            ).scalars()
        )
    engine.dispose()
    rng = random.Random(seed)
    categories = [c for c in CATEGORY_PREFERENCE if c in codes] or sorted(codes)[:3]
    sample = rng.sample(all_ids, min(ids, len(all_ids)))
    return Vocabulary(
        categories=categories[:3],
        regions=rng.sample(regions, min(4, len(regions))),
        cities=rng.sample(cities, min(6, len(cities))),
        service_ids=[str(i if isinstance(i, uuid.UUID) else uuid.UUID(str(i))) for i in sample],
    )


def request_types(vocab: Vocabulary) -> list[RequestType]:
    types = [
        RequestType("home", "", "", ["/en/", "/uk/", "/ar/"]),
    ]
    for name, queries in QUERIES.items():
        types.append(RequestType(name, "", "", [_search(loc, q=q) for loc, q in queries]))
    types.append(
        RequestType(
            "filter",
            "",
            "",
            [_search("en", category=c, place=r) for c in vocab.categories for r in vocab.regions],
        )
    )
    types.append(
        RequestType(
            "near",
            "",
            "",
            [
                _search("en", near=f"{lat:.2f},{lon:.2f}", sort="distance")
                for lat, lon in vocab.cities
            ]
            + [
                _search(
                    "en", near=f"{lat:.2f},{lon:.2f}", sort="distance", category=vocab.categories[0]
                )
                for lat, lon in vocab.cities[:2]
                if vocab.categories
            ],
        )
    )
    types.append(RequestType("service", "", "", [f"/en/services/{i}" for i in vocab.service_ids]))
    types.append(
        RequestType(
            "fragment",
            "",
            "",
            [_search(loc, q=q) for loc, q in QUERIES["search_latin"]],
            headers=HX,
        )
    )
    types.append(
        RequestType(
            "api_search",
            "",
            "",
            [
                f"{API_SEARCH_PATHS[0]}?" + urlencode({"q": q, "locale": loc}, quote_via=quote)
                for loc, q in QUERIES["search_latin"]
            ],
        )
    )
    for t in types:
        t.label, t.group = LABELS[t.name], GROUPS[t.name]
    return types


STATIC_RE = re.compile(r"""(?:href|src)=["'](/static/[^"'?#]+)""")


def probe(client: Client, types: list[RequestType]) -> RequestType | None:
    """Check every type answers (dropping service ids that do not), then pick the static file
    whose size (uncompressed) is closest to the search page's: the floor. Returns the floor."""
    for t in types:
        if t.name == "api_search":
            _find_api_route(client, t)
        good, statuses, sizes = [], {}, []
        for path in t.paths:
            resp = client.get(path, headers=t.headers)
            statuses[resp.status] = statuses.get(resp.status, 0) + 1
            if resp.status == 200:
                good.append(path)
                sizes.append(len(resp.body))
                if t.group == "search" or t.name == "api_search":
                    _count_matches(client, t, path)
        t.probe = {"statuses": statuses, "bytes": round(sum(sizes) / len(sizes)) if sizes else 0}
        if not good:
            t.available = False
            t.note = (
                "no path answered 200 (" + ", ".join(f"{k}×{v}" for k, v in statuses.items()) + ")"
            )
        elif len(good) < len(t.paths):
            t.note = (
                f"{len(t.paths) - len(good)} of {len(t.paths)} paths did not answer 200: dropped"
            )
        t.paths = good or t.paths
    return _floor(client, types)


def _find_api_route(client: Client, t: RequestType) -> None:
    for prefix in API_SEARCH_PATHS:
        paths = [prefix + p[p.index("?") :] for p in t.paths]
        if client.get(paths[0]).status == 200:
            t.paths = paths
            return


def _count_matches(client: Client, t: RequestType, path: str) -> None:
    """How many services a query matches, from the API (kept in the results for honesty)."""
    if "?" not in path:
        return
    route, query = path.split("?", 1)
    params = dict(parse_qsl(query))
    if route.startswith("/api/"):
        params.pop("limit", None)
    else:
        params["locale"] = route.strip("/").split("/")[0]
    if "near" in params:
        params["lat"], params["lon"] = params.pop("near").split(",")
    resp = client.get(f"{API_SEARCH_PATHS[0]}?" + urlencode({**params, "limit": 1}))
    if resp.status != 200:
        return
    try:
        total = json.loads(resp.body).get("total_items")
    except (ValueError, AttributeError):
        return
    matches = t.probe.setdefault("matches", {})
    assert isinstance(matches, dict)
    matches[path] = total


def _floor(client: Client, types: list[RequestType]) -> RequestType | None:
    target = next((t.probe.get("bytes") for t in types if t.name == "search_latin"), 0) or 20000
    home = client.get("/en/")
    candidates = sorted(set(STATIC_RE.findall(home.body.decode("utf-8", "replace"))))
    best: tuple[int, str, int] | None = None
    for path in candidates:
        resp = client.get(path)
        if resp.status != 200:
            continue
        gap = abs(len(resp.body) - int(target))  # type: ignore[call-overload]
        if best is None or gap < best[0]:
            best = (gap, path, len(resp.body))
    if best is None:
        return None
    floor = RequestType(
        "static",
        LABELS["static"],
        "floor",
        [best[1]],
        note=f"{best[2]} bytes, closest to the search page's {target}",
    )
    floor.probe = {"bytes": best[2]}
    return floor
