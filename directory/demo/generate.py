"""A deterministic synthetic directory of any size, for benchmarks and load tests.

Realistic in shape: every city of the gazetteer (jittered coordinates), text in all six UI
locales (Cyrillic, Latin, Arabic), the whole taxonomy, weekly hours and exceptions, amenities,
capacities, temporary statuses, ~3 % confidential and ~20 % stale listings. Everything is marked
`is_demo` and fictional. The same seed gives the same ids and texts; rows are built and written
in chunks with bulk Core inserts, so 100,000 services take seconds, not minutes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from directory.db import utcnow
from directory.demo.data import CITY_LOCALE, DOCUMENTS, HOURS, LANGUAGE_NAMES, STREETS
from directory.demo.rows import DEMO_NOTE, Rows, dec
from directory.errors import Conflict
from directory.listings import models as m
from directory.listings.places import CITIES, PlaceDef, country_of, ensure_places, place_id
from directory.listings.taxonomy import (
    CRISIS_TAXONOMY,
    LOCALES,
    TermDef,
    ensure_taxonomy,
    term_id,
)
from directory.search.index import reindex_all

CHUNK = 5000  # services built and written at a time (bounded memory)
SERVICES_PER_ORG = 4

#: Proper names for fictional organisations, spelt in each UI locale.
STEMS: tuple[dict[str, str], ...] = tuple(
    dict(zip(LOCALES, names, strict=True))
    for names in (
        ("Kalyna", "Калина", "Калина", "Kalina", "Kalyna", "كالينا"),
        ("Svitanok", "Світанок", "Рассвет", "Świt", "Morgenrot", "الفجر"),
        ("Nadiya", "Надія", "Надежда", "Nadzieja", "Hoffnung", "الأمل"),
        ("Mriya", "Мрія", "Мечта", "Marzenie", "Traum", "الحلم"),
        ("Promin", "Промінь", "Луч", "Promień", "Lichtstrahl", "الشعاع"),
        ("Dzherelo", "Джерело", "Родник", "Źródło", "Quelle", "النبع"),
        ("Oberih", "Оберіг", "Оберег", "Talizman", "Schutzengel", "التميمة"),
        ("Zlagoda", "Злагода", "Согласие", "Zgoda", "Eintracht", "الوئام"),
        ("Kolo", "Коло", "Круг", "Krąg", "Kreis", "الحلقة"),
        ("Mayak", "Маяк", "Маяк", "Latarnia", "Leuchtturm", "المنارة"),
        ("Sonyashnyk", "Соняшник", "Подсолнух", "Słonecznik", "Sonnenblume", "عباد الشمس"),
        ("Pryval", "Привал", "Привал", "Przystanek", "Rastplatz", "الاستراحة"),
    )
)
ORG_KINDS: tuple[dict[str, str], ...] = (
    {
        "en": "Foundation",
        "uk": "Фонд",
        "ru": "Фонд",
        "pl": "Fundacja",
        "de": "Stiftung",
        "ar": "مؤسسة",
    },
    {
        "en": "Volunteer Network",
        "uk": "Волонтерська мережа",
        "ru": "Волонтёрская сеть",
        "pl": "Sieć Wolontariuszy",
        "de": "Freiwilligennetz",
        "ar": "شبكة المتطوعين",
    },
    {
        "en": "Initiative",
        "uk": "Ініціатива",
        "ru": "Инициатива",
        "pl": "Inicjatywa",
        "de": "Initiative",
        "ar": "مبادرة",
    },
    {
        "en": "Aid Centre",
        "uk": "Центр допомоги",
        "ru": "Центр помощи",
        "pl": "Centrum Pomocy",
        "de": "Hilfezentrum",
        "ar": "مركز المساعدة",
    },
)
NUMBER = {
    "en": "No. {n}",
    "uk": "№ {n}",
    "ru": "№ {n}",
    "pl": "nr {n}",
    "de": "Nr. {n}",
    "ar": "رقم {n}",
}
GENERATED = {
    "en": "Generated test data.",
    "uk": "Згенеровані тестові дані.",
    "ru": "Сгенерированные тестовые данные.",
    "pl": "Wygenerowane dane testowe.",
    "de": "Generierte Testdaten.",
    "ar": "بيانات اختبار مولَّدة.",
}
#: Source locale weights per country (listings are mostly written in the local language).
SOURCE_WEIGHTS: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "UA": (("uk", "ru", "en", "ar"), (70, 15, 13, 2)),
    "PL": (("pl", "uk", "en", "ru"), (55, 30, 10, 5)),
    "DE": (("de", "uk", "ar", "en", "ru"), (50, 25, 12, 8, 5)),
    "MD": (("ru", "en", "uk"), (50, 30, 20)),
}
DEFAULT_WEIGHTS = (("en", "uk", "ru"), (60, 30, 10))
#: Big cities get more listings.
CITY_WEIGHT = {
    "kyiv": 12,
    "kharkiv": 8,
    "odesa": 7,
    "lviv": 7,
    "dnipro": 7,
    "warsaw": 6,
    "berlin": 5,
    "chisinau": 4,
    "zaporizhzhia": 4,
    "krakow": 3,
    "prague": 3,
}
#: Fictional capital-city numbers (prefix, random digits): a block of zeros after the area code,
#: every number valid for its country (`phonenumbers.is_valid_number`, as moderation checks) —
#: Bratislava numbers cannot start 2 0…, so Slovakia uses the zero block after 2 5.
PHONE: dict[str, tuple[str, int]] = {
    "UA": ("+38044000", 4),
    "PL": ("+4822000", 4),
    "DE": ("+493023125", 3),
    "MD": ("+37322000", 3),
    "RO": ("+4021000", 4),
    "CZ": ("+420200000", 3),
    "SK": ("+421250000", 3),
    "HU": ("+361000", 4),
}
SHELTER_TYPES = {
    "shelter.air-raid": "air_raid_shelter",
    "shelter.collective-centre": "collective_centre",
    "shelter.emergency-accommodation": "emergency_accommodation",
    "heat-power.warming": "warming_point",
    "heat-power.charging": "charging_point",
}
DAY_SETS = ("MO,TU,WE,TH,FR", "MO,TU,WE,TH,FR,SA", "MO,WE,FR", "TU,TH,SA", "SA,SU")


@dataclass(frozen=True)
class _Ctx:
    now: dt.datetime
    leaves: tuple[TermDef, ...]
    cities: tuple[PlaceDef, ...]
    cum_weights: tuple[int, ...]
    place_ids: dict[str, uuid.UUID]  # city and region codes → ids (uuid5 is slow-ish)
    term_ids: dict[str, uuid.UUID]
    countries: dict[str, str]
    others: dict[str, tuple[str, ...]]  # locale → the other five


#: Audience code sets to pick from (picking a tuple beats random.sample per service).
AUDIENCE_SETS: tuple[str, ...] = (
    "any_nationality",
    "idp",
    "refugees",
    "any_nationality children families",
    "idp elderly",
    "women children",
    "refugees families",
    "elderly disabled",
    "students foreigners",
    "veterans",
    "idp families",
    "any_nationality elderly disabled",
)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _ctx(now: dt.datetime) -> _Ctx:
    leaves = tuple(t for t in CRISIS_TAXONOMY if t.parent_code is not None)
    cum = tuple(itertools.accumulate(CITY_WEIGHT.get(c.code, 1) for c in CITIES))
    codes = {c.code for c in CITIES} | {c.parent for c in CITIES if c.parent}
    return _Ctx(
        now,
        leaves,
        CITIES,
        cum,
        {c: place_id(c) for c in codes},
        {t.code: term_id(t.code) for t in CRISIS_TAXONOMY},
        {c.code: country_of(c.code) for c in CITIES},
        {loc: tuple(x for x in LOCALES if x != loc) for loc in LOCALES},
    )


def _others(rng: random.Random, ctx: _Ctx, source: str) -> tuple[str, ...]:
    """One or two other locales the texts are translated into."""
    others = ctx.others[source]
    i = rng.randrange(5)
    if rng.random() < 0.35:
        return (others[i], others[(i + 1 + rng.randrange(4)) % 5])
    return (others[i],)


def build_chunks(*, services: int, seed: int, now: dt.datetime) -> Iterator[Rows]:
    """The rows of `services` generated services, CHUNK services at a time (deterministic)."""
    rng = random.Random(seed)
    ctx = _ctx(now)
    made = 0
    org_no = 0
    # Ids ascend within a run, so every index insert is an append (random UUIDs scatter them
    # over the B-trees: ~2x slower writes at 100,000 services). Layout of the first 8 bytes,
    # which the search index hashes into its rowid (`fts_rowid`: those bits >> 1): a 20-bit
    # per-seed prefix, a 28-bit counter, the version nibble, zeros; so they differ for every id
    # of a run. The last 8 bytes are random.
    prefix = rng.getrandbits(20) << 108
    counter = itertools.count(1)

    def new_id() -> uuid.UUID:
        n = next(counter)
        if n >= 1 << 28:
            raise ValueError("too many ids for one generate run")
        return uuid.UUID(int=prefix | n << 80 | rng.getrandbits(62), version=4)

    while made < services:
        rows = Rows(new_id)
        size = min(CHUNK, services - made)
        org: tuple[uuid.UUID, dict[str, str]] | None = None
        for i in range(size):
            if org is None or i % SERVICES_PER_ORG == 0:
                org_no += 1
                org = _org(rows, rng, org_no)
            _service(rows, rng, ctx, org, made + i + 1)
        made += size
        yield rows


def _org(rows: Rows, rng: random.Random, n: int) -> tuple[uuid.UUID, dict[str, str]]:
    stem, kind = rng.choice(STEMS), rng.choice(ORG_KINDS)
    names = {
        "en": f"Demo: {stem['en']} {kind['en']} {n}",
        "uk": f"Демо: {kind['uk']} «{stem['uk']}» {n}",
        "ru": f"Демо: {kind['ru']} «{stem['ru']}» {n}",
        "pl": f"Demo: {kind['pl']} „{stem['pl']}” {n}",
        "de": f"Demo: {kind['de']} „{stem['de']}“ {n}",
        "ar": f"تجريبي: {kind['ar']} {stem['ar']} {n}",
    }
    source = rng.choice(("uk", "uk", "en", "pl", "de", "ru"))
    oid = rows.new_id()
    other = rng.choice([loc for loc in LOCALES if loc != source])
    name = rows.texts(
        "organization", oid, "name", source, {loc: names[loc] for loc in (source, other)}
    )
    rows.add(
        m.Organization,
        id=oid,
        name=name,
        description=DEMO_NOTE[source],
        source_locale=source,
        is_demo=True,
        email=f"org{n}@example.org",
    )
    return oid, stem


def _service(
    rows: Rows, rng: random.Random, ctx: _Ctx, org: tuple[uuid.UUID, dict[str, str]], n: int
) -> None:
    now = ctx.now
    oid, stem = org
    city = rng.choices(ctx.cities, cum_weights=ctx.cum_weights)[0]
    country = ctx.countries[city.code]
    locales, weights = SOURCE_WEIGHTS.get(country, DEFAULT_WEIGHTS)
    source = rng.choices(locales, weights)[0]
    term = rng.choice(ctx.leaves)
    confidential = rng.random() < 0.03
    if confidential:
        term = next(t for t in ctx.leaves if t.code == "protection.gbv")
    shelter_type = SHELTER_TYPES.get(term.code)
    sid, lid = rows.new_id(), rows.new_id()
    translated = (source, *_others(rng, ctx, source))
    names = {loc: f"{term.name(loc)} — {stem[loc]} {NUMBER[loc].format(n=n)}" for loc in translated}
    descs = {
        loc: f"{term.description(loc)} {GENERATED[loc]} {DEMO_NOTE[loc]}" for loc in translated
    }
    name = rows.texts("service", sid, "name", source, names)
    desc = rows.texts("service", sid, "description", source, descs)

    stale = rng.random() < 0.2
    assured = now - (
        dt.timedelta(days=rng.randint(31, 400))
        if stale
        else dt.timedelta(minutes=rng.randint(10, 29 * 24 * 60))
    )
    status, since, until = "active", None, None
    roll = rng.random()
    capacity: dict[str, Any] = {}
    if shelter_type or confidential:
        maximum = rng.randint(10, 400)
        capacity = {
            "capacity_maximum": maximum,
            "capacity_available": rng.randint(0, maximum),
            "capacity_updated": now - dt.timedelta(minutes=rng.randint(5, 5000)),
        }
    if roll < 0.03:
        status, since = "temporarily closed", now - dt.timedelta(hours=rng.randint(1, 20))
        until = now + dt.timedelta(hours=rng.randint(1, 48))
    elif roll < 0.06 and capacity:
        status, since = "full", now - dt.timedelta(hours=rng.randint(1, 20))
        capacity["capacity_available"] = 0
    elif roll < 0.08:
        status = "inactive"
    always = (
        shelter_type in ("air_raid_shelter", "warming_point") or confidential or rng.random() < 0.08
    )
    privacy = (
        "confidential" if confidential else ("approximate" if rng.random() < 0.05 else "exact")
    )
    assert city.latitude is not None and city.longitude is not None
    b = rng.random
    rows.add(
        m.Location,
        id=lid,
        organization_id=oid,
        name=name,
        source_locale=source,
        latitude=dec(city.latitude + rng.uniform(-0.08, 0.08)),
        longitude=dec(city.longitude + rng.uniform(-0.12, 0.12)),
        place_id=ctx.place_ids[city.code],
        region_id=ctx.place_ids[city.parent or city.code],
        timezone=city.timezone,
        privacy=privacy,
        shelter_type=shelter_type,
        capacity_maximum=capacity.get("capacity_maximum"),
        capacity_available=capacity.get("capacity_available"),
        capacity_updated=capacity.get("capacity_updated"),
        has_heating=b() < 0.6,
        has_power=b() < 0.5,
        has_water=b() < 0.6,
        has_internet=b() < 0.4,
        has_toilets=b() < 0.6,
        wheelchair_accessible=b() < 0.35,
        pets_allowed=b() < 0.25,
        women_children_only=confidential or b() < 0.02,
        open_24_7=always,
        is_demo=True,
    )
    rows.add(
        m.Service,
        id=sid,
        organization_id=oid,
        name=name,
        description=desc,
        status=status,
        status_since=since,
        status_until=until,
        source_locale=source,
        assured_date=assured,
        assurer_email="verifier@example.org",
        is_demo=True,
        free_of_charge=b() < 0.85,
        audience=rng.choice(AUDIENCE_SETS),
        open_during_alert=True if shelter_type == "air_raid_shelter" else None,
    )
    rows.add(m.ServiceAtLocation, service_id=sid, location_id=lid)
    street = rng.choice(STREETS[country])
    rows.add(
        m.Address,
        location_id=lid,
        address_1=f"{street} {rng.randint(1, 200)}",
        city=city.names[CITY_LOCALE[country]],
        country=country,
        address_2="(demo address)",
    )
    prefix, width = PHONE[country]
    rows.add(
        m.Phone,
        service_id=sid,
        location_id=None if confidential else lid,
        number=prefix + str(rng.randrange(10 ** (width - 1))).zfill(width),
        type="voice",
        is_hotline=confidential,
    )
    if not always:
        preset = rng.choice(tuple(HOURS))
        if rng.random() < 0.5:
            for byday, opens, closes in HOURS[preset]:
                rows.add(
                    m.Schedule,
                    service_id=sid,
                    location_id=lid,
                    freq="WEEKLY",
                    byday=byday,
                    opens_at=dt.time.fromisoformat(opens),
                    closes_at=dt.time.fromisoformat(closes),
                )
        else:
            start = rng.randint(7, 12)
            rows.add(
                m.Schedule,
                service_id=sid,
                location_id=lid,
                freq="WEEKLY",
                byday=rng.choice(DAY_SETS),
                opens_at=dt.time(start),
                closes_at=dt.time(start + rng.randint(3, 10)),
            )
    if rng.random() < 0.02:
        day = now.date() + dt.timedelta(days=rng.randint(0, 14))
        rows.add(
            m.ScheduleException,
            location_id=lid,
            date=day,
            closed=True,
            source_locale=source,
            reason=GENERATED[source],
        )
    for code in dict.fromkeys((source, rng.choice(("uk", "ru", "en")))):
        rows.add(m.Language, service_id=sid, code=code, name=LANGUAGE_NAMES[code])
    if rng.random() < 0.3:
        rows.add(
            m.RequiredDocument,
            service_id=sid,
            document=DOCUMENTS[rng.choice(tuple(DOCUMENTS))]["en"],
        )
    for tcode in (term.code, term.parent_code):
        if tcode:
            rows.add(
                m.Attribute,
                link_id=sid,
                link_type="service",
                link_entity="service",
                taxonomy_term_id=ctx.term_ids[tcode],
            )


def generate(session: Session, *, services: int, seed: int) -> dict[str, int]:
    """Insert `services` generated services (and their organisations, locations, ...), then
    rebuild the search index. Never commits. The same seed twice in one database conflicts."""
    if services < 0:
        raise ValueError("services must be >= 0")
    ensure_taxonomy(session)
    ensure_places(session)
    now = utcnow()
    counts = {"organizations": 0, "services": 0, "locations": 0, "translations": 0}
    first = True
    for rows in build_chunks(services=services, seed=seed, now=now):
        if first and rows.rows[m.Organization]:
            if session.get(m.Organization, rows.rows[m.Organization][0]["id"]) is not None:
                raise Conflict(
                    f"data generated with seed {seed} is already in this database; "
                    "use another --seed or an empty database"
                )
            first = False
        rows.write(session, now=now)
        counts["organizations"] += rows.count(m.Organization)
        counts["services"] += rows.count(m.Service)
        counts["locations"] += rows.count(m.Location)
        counts["translations"] += rows.count(m.Translation)
    session.flush()

    reindex_all(session)
    return counts
