"""Loads the fictional demo dataset: a few hundred services in Ukrainian cities and in cities
that host refugees, showing every situation the directory is for (see ../shared/SCENARIOS.md).

Everything is marked `is_demo` and every description says it is demo data. Organisations and
addresses are invented; phone numbers come from obviously fictional ranges (+380 44 000 0xxx,
Berlin's 030 23125 xxx range reserved for fiction, ...). Times are relative to the moment of
loading, so the demo always looks fresh ("verified 2 hours ago", "closed until tonight").
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.db import utcnow
from directory.demo.data import (
    CITY_LOCALE,
    DOCUMENTS,
    HOST_ORG,
    HOST_TEMPLATES,
    HOURS,
    LANGUAGE_NAMES,
    ORGS,
    STREETS,
    UA_TEMPLATES,
    OrgDef,
    ServiceTpl,
    Texts,
)
from directory.demo.rows import DEMO_NOTE, Rows, dec, demo_text
from directory.listings import models as m
from directory.listings.hours import zone
from directory.listings.places import PLACES_BY_CODE, country_of, ensure_places, place_id
from directory.listings.taxonomy import ensure_taxonomy, stable_id, term_id
from directory.search.index import reindex_all

SEED = 20260224
ASSURER = "demo-verifier@example.org"

#: How many of each UA template per city (default 1); which templates smaller cities get.
MAIN_UA = ("kyiv", "kharkiv", "odesa", "lviv", "dnipro")
MORE_OF = {"shelter-basement": 4, "warming": 3, "charging": 2, "hot-meals": 2}
SMALL_UA = (
    "zaporizhzhia",
    "mykolaiv",
    "kherson",
    "chernihiv",
    "sumy",
    "poltava",
    "vinnytsia",
    "ivano-frankivsk",
    "uzhhorod",
)
SMALL_UA_TEMPLATES = (
    "shelter-basement",
    "warming",
    "charging",
    "hot-meals",
    "pharmacy",
    "legal",
    "psych",
    "cash",
)
MAIN_HOST = ("warsaw", "berlin", "chisinau")
SMALL_HOST = ("krakow", "przemysl", "prague", "bucharest", "budapest")
SMALL_HOST_TEMPLATES = ("reception", "meals", "protection", "counselling")

#: Per city: E.164 prefix of an obviously fictional range, and how many digits follow.
PHONE_PREFIX: dict[str, tuple[str, int]] = {
    "kyiv": ("+38044000", 4),
    "kharkiv": ("+38057000", 4),
    "odesa": ("+38048000", 4),
    "lviv": ("+38032000", 4),
    "dnipro": ("+38056000", 4),
    "zaporizhzhia": ("+38061000", 4),
    "mykolaiv": ("+3805120", 5),
    "kherson": ("+3805520", 5),
    "chernihiv": ("+3804620", 5),
    "sumy": ("+3805420", 5),
    "poltava": ("+3805320", 5),
    "vinnytsia": ("+3804320", 5),
    "ivano-frankivsk": ("+3803420", 5),
    "uzhhorod": ("+3803120", 5),
    "warsaw": ("+4822000", 4),
    "krakow": ("+4812000", 4),
    "przemysl": ("+4816000", 4),
    "berlin": ("+493023125", 3),  # Berlin 030 23125 xxx: reserved for film and fiction
    "chisinau": ("+37322000", 3),
    "prague": ("+420200000", 3),
    "bucharest": ("+4021000", 4),
    "budapest": ("+361000", 4),
}
LOCAL_CITY_NAME = {"prague": "Praha", "bucharest": "București", "chisinau": "Chișinău"}

#: The note on every demo phone number, in the six interface languages.
DEMO_PHONE_NOTE = {
    "en": "Fictional demo number, not a real line.",
    "uk": "Вигаданий демонстраційний номер, не справжня лінія.",
    "ru": "Вымышленный демонстрационный номер, не настоящая линия.",
    "pl": "Fikcyjny numer demonstracyjny, nie prawdziwa linia.",
    "de": "Fiktive Demo-Nummer, kein echter Anschluss.",
    "ar": "رقم تجريبي وهمي، وليس خطًا حقيقيًا.",
}


def demo_id(key: str) -> uuid.UUID:
    return stable_id("demo", key)


class DemoBuilder:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.rng = random.Random(SEED)
        counter = itertools.count()
        self.rows = Rows(lambda: demo_id(f"row:{next(counter)}"))
        self.phone_seq: dict[str, int] = {}
        self.org_ids: dict[str, uuid.UUID] = {}

    # --- helpers ---------------------------------------------------------------------------

    def org(self, key: str) -> uuid.UUID:
        if key not in self.org_ids:
            odef = next(o for o in ORGS if o.key == key)
            self.org_ids[key] = self._add_org(odef)
        return self.org_ids[key]

    def _add_org(self, o: OrgDef) -> uuid.UUID:
        oid = demo_id(f"org:{o.key}")
        name = self.rows.texts("organization", oid, "name", o.source, o.names)
        desc_texts = {loc: DEMO_NOTE[loc] for loc in o.names}
        desc = self.rows.texts("organization", oid, "description", o.source, desc_texts)
        self.rows.add(
            m.Organization,
            id=oid,
            name=name,
            description=desc,
            source_locale=o.source,
            email=f"{o.key}@example.org",
            website=f"https://example.org/demo/{o.key}",
            is_demo=True,
        )
        return oid

    def phone(self, city: str) -> str:
        """The next number of the city's fictional range (+380 44 000 0101, ...)."""
        n = self.phone_seq.get(city, 0) + 1
        self.phone_seq[city] = n
        prefix, width = PHONE_PREFIX[city]
        return prefix + str(100 + n).zfill(width)

    def verified(self, *, stale: bool | None = None, hours: float | None = None) -> dt.datetime:
        if hours is not None:
            return self.now - dt.timedelta(hours=hours)
        if stale is None:
            stale = self.rng.random() < 0.2
        if stale:
            return self.now - dt.timedelta(days=self.rng.randint(35, 120))
        return self.now - dt.timedelta(hours=self.rng.randint(1, 240))

    def local_today(self, city: str) -> dt.date:
        return self.now.astimezone(zone(PLACES_BY_CODE[city].timezone)).date()

    # --- one listing -----------------------------------------------------------------------

    def listing(
        self,
        key: str,
        *,
        org: str,
        city: str,
        source: str,
        names: Texts,
        descriptions: Texts,
        categories: tuple[str, ...],
        hours: str = "office",
        location: dict[str, Any] | None = None,
        capacity: tuple[int, int] | None = None,
        audience: str = "any_nationality",
        free: bool = True,
        documents: tuple[str, ...] = (),
        languages: tuple[str, ...] = ("uk", "ru"),
        open_during_alert: bool | None = None,
        privacy: str = "exact",
        assured: dt.datetime | None = None,
        status: str = "active",
        status_reason: Texts | None = None,
        status_reason_code: str | None = None,
        status_since: dt.datetime | None = None,
        status_until: dt.datetime | None = None,
        alternative: uuid.UUID | None = None,
        hotline: str | None = None,
        capacity_updated_hours: float | None = None,
    ) -> uuid.UUID:
        rng, rows = self.rng, self.rows
        sid, lid = demo_id(f"service:{key}"), demo_id(f"location:{key}")
        place = PLACES_BY_CODE[city]
        country = country_of(city)
        assert place.latitude is not None and place.longitude is not None
        names = {loc: v for loc, v in names.items() if v}
        descriptions = {loc: demo_text(v, loc) for loc, v in descriptions.items() if v}
        loc_values: dict[str, Any] = dict(location or {})
        if capacity is not None:
            maximum, available = capacity
            loc_values.update(
                capacity_maximum=maximum,
                capacity_available=available,
                capacity_updated=self.now
                - dt.timedelta(
                    hours=capacity_updated_hours
                    if capacity_updated_hours is not None
                    else rng.randint(1, 30)
                ),
            )
        if hours == "24/7":
            loc_values["open_24_7"] = True
        loc_name = rows.texts("location", lid, "name", source, names)
        rows.add(
            m.Location,
            id=lid,
            organization_id=self.org(org),
            name=loc_name,
            latitude=dec(place.latitude + rng.uniform(-0.035, 0.035)),
            longitude=dec(place.longitude + rng.uniform(-0.05, 0.05)),
            place_id=place_id(city),
            region_id=place_id(place.parent or city),
            timezone=place.timezone,
            privacy=privacy,
            source_locale=source,
            is_demo=True,
            **loc_values,
        )
        streets = STREETS[country]
        street, number = rng.choice(streets), rng.randint(1, 120)
        address_1 = f"{street}, {number}" if country == "UA" else f"{street} {number}"
        city_name = LOCAL_CITY_NAME.get(city, place.names[CITY_LOCALE[country]])
        region = PLACES_BY_CODE[place.parent] if place.parent else place
        rows.add(
            # (no "(demo address)" note: it was English in every language; the listing's
            # "Demo: fictional data" badge and description say it is fictional)
            m.Address,
            location_id=lid,
            address_1=address_1,
            address_2=None,
            city=city_name,
            state_province=region.names.get(CITY_LOCALE[country], region.names["en"]),
            postal_code="",
            country=country,
        )
        name = rows.texts("service", sid, "name", source, names)
        desc = rows.texts("service", sid, "description", source, descriptions)
        reason = (
            rows.texts("service", sid, "status_reason", source, status_reason)
            if status_reason
            else None
        )
        rows.add(
            m.Service,
            id=sid,
            organization_id=self.org(org),
            name=name,
            description=desc,
            status=status,
            source_locale=source,
            assured_date=assured or self.verified(),
            assurer_email=ASSURER,
            audience=audience,
            free_of_charge=free,
            open_during_alert=open_during_alert,
            is_demo=True,
            status_reason=reason,
            status_reason_code=status_reason_code,
            status_since=status_since,
            status_until=status_until,
            alternative_service_id=alternative,
            email=key.replace(":", ".") + "@example.org",
        )
        rows.add(m.ServiceAtLocation, service_id=sid, location_id=lid)
        pid = rows.new_id()
        rows.add(
            m.Phone,
            id=pid,
            service_id=sid,
            location_id=None if hotline else lid,
            number=hotline or self.phone(city),
            type="voice",
            is_hotline=bool(hotline),
            description=rows.texts("phone", pid, "description", "en", DEMO_PHONE_NOTE),
        )
        if hours != "24/7":
            for byday, opens, closes in HOURS[hours]:
                rows.add(
                    m.Schedule,
                    service_id=sid,
                    location_id=lid,
                    freq="WEEKLY",
                    byday=byday,
                    opens_at=dt.time.fromisoformat(opens),
                    closes_at=dt.time.fromisoformat(closes),
                    timezone=place.timezone,
                )
        for code in languages:
            rows.add(m.Language, service_id=sid, code=code, name=LANGUAGE_NAMES.get(code))
        for doc in documents:
            did = rows.new_id()
            text = rows.texts("required_document", did, "document", "en", DOCUMENTS[doc])
            rows.add(m.RequiredDocument, id=did, service_id=sid, document=text)
        for code in dict.fromkeys(categories):
            rows.add(
                m.Attribute,
                link_id=sid,
                link_type="service",
                link_entity="service",
                taxonomy_term_id=term_id(code),
            )
        return sid

    def from_template(
        self, tpl: ServiceTpl, city: str, n: int, *, org: str | None = None, **overrides: Any
    ) -> uuid.UUID:
        country = country_of(city)
        source = CITY_LOCALE[country]
        names = {loc: v.format(n=n) for loc, v in tpl.names.items()}
        keep = set(tpl.names) if country == "UA" else {source, "en", "uk", "ar"} & set(tpl.names)
        names = {loc: v for loc, v in names.items() if loc in keep}
        descriptions = {loc: v for loc, v in tpl.descriptions.items() if loc in keep}
        if source not in names:  # e.g. Prague: English source
            source = "en"
        capacity = None
        if tpl.capacity:
            maximum = self.rng.randint(*tpl.capacity)
            capacity = (maximum, self.rng.randint(0, maximum // 2))
        languages = tuple(
            dict.fromkeys(((source,) if source not in ("en",) else ()) + tpl.languages)
        )
        if country in ("RO", "MD"):
            languages += ("ro",)
        kwargs: dict[str, Any] = {
            "org": org or (HOST_ORG[country] if tpl.org == "host" else tpl.org),
            "city": city,
            "source": source,
            "names": names,
            "descriptions": descriptions,
            "categories": tpl.categories,
            "hours": tpl.hours,
            "location": dict(tpl.location),
            "capacity": capacity,
            "audience": tpl.audience,
            "free": tpl.free,
            "documents": tpl.documents,
            "languages": languages,
            "open_during_alert": tpl.open_during_alert,
            "privacy": "approximate" if tpl.approximate else "exact",
        }
        kwargs.update(overrides)
        return self.listing(f"{city}:{tpl.key}:{n}", **kwargs)

    # --- the dataset -----------------------------------------------------------------------

    def build(self) -> None:
        ua = {t.key: t for t in UA_TEMPLATES}
        host = {t.key: t for t in HOST_TEMPLATES}
        self.specials_before()
        for city in MAIN_UA:
            for tpl in UA_TEMPLATES:
                for n in range(1, MORE_OF.get(tpl.key, 1) + 1):
                    overrides = self.overrides(city, tpl.key, n)
                    if overrides is not None:
                        self.from_template(tpl, city, n, **overrides)
        for city in SMALL_UA:
            for key in SMALL_UA_TEMPLATES:
                self.from_template(ua[key], city, 1)
        for city in MAIN_HOST:
            country = country_of(city)
            second = {"PL": "drzwi", "DE": "nachbarn"}.get(country)
            for i, tpl in enumerate(HOST_TEMPLATES):
                org = second if second and i % 2 else None
                self.from_template(tpl, city, 1, org=org, **self.overrides(city, tpl.key, 1) or {})
            self.from_template(host["reception"], city, 2)
        for city in SMALL_HOST:
            for key in SMALL_HOST_TEMPLATES:
                self.from_template(host[key], city, 1)
        self.specials_after()

    def overrides(self, city: str, key: str, n: int) -> dict[str, Any] | None:
        """Per-listing facts the scenarios need; None leaves the template listing out."""
        if city == "kharkiv" and key == "warming":
            # Scenario 1: three warming points open now, with generator and water, verified
            # hours ago (a fourth, stale and closed at night, is added in specials_after).
            return {"assured": self.verified(hours=(2, 3, 5)[n - 1]), "capacity": (60, 25 + 5 * n)}
        if city == "lviv" and key == "charging" and n == 1:
            # A one-tap reason: stored as a code, read in every reader's language.
            return {
                "status": "temporarily closed",
                "status_reason_code": "power",
                "status_since": self.now - dt.timedelta(hours=1),
                "status_until": self.now + dt.timedelta(hours=3),
            }
        if city == "dnipro" and key == "shelter-basement":
            return {"assured": self.verified(hours=n), "capacity_updated_hours": 0.5}
        if city == "kyiv" and key in ("shelter-basement", "legal") and n in (3, 4, 1):
            return {"assured": self.verified(stale=True)}  # Scenario 5: stale listings to call
        if city == "lviv" and key == "collective" and n == 1:
            # Scenario 4: Maria's collective centre, 12 free beds.
            return {"capacity": (80, 12), "assured": self.verified(hours=2)}
        if city == "kyiv" and key == "collective" and n == 1:
            return None  # replaced by the full shelter below
        if city == "odesa" and key == "warming":
            return {"assured": self.verified(hours=6 + n)}
        if city in ("warsaw", "chisinau") and key in ("reception", "pet-shelter"):
            # Scenario 3: beds tonight, children and a dog welcome.
            return {"capacity": (60, 14), "assured": self.verified(hours=4)}
        return {}

    def specials_before(self) -> None:
        """Listings others point at (alternatives) must be written first."""
        ua = {t.key: t for t in UA_TEMPLATES}
        self.kyiv_collective_2 = self.from_template(
            ua["collective"], "kyiv", 2, capacity=(120, 9), assured=self.verified(hours=3)
        )
        self.kyiv_consulate = self.listing(
            "kyiv:consular",
            org="consular",
            city="kyiv",
            source="en",
            names={
                "en": "Consular section (demo) — Kyiv",
                "ar": "القسم القنصلي (تجريبي) — كييف",
                "uk": "Консульський відділ (демо) — Київ",
                "ru": "Консульский отдел (демо) — Киев",
            },
            descriptions={
                "en": "Passports, travel documents and evacuation lists for citizens of a fictional state. Also answers phone requests from citizens in other regions.",
                "ar": "جوازات السفر ووثائق السفر وقوائم الإجلاء لمواطني دولة وهمية. ويرد أيضًا على الطلبات الهاتفية من المواطنين في المناطق الأخرى.",
                "uk": "Паспорти, проїзні документи та списки на евакуацію для громадян вигаданої держави. Також відповідає на телефонні звернення громадян з інших областей.",
                "ru": "Паспорта, проездные документы и списки на эвакуацию для граждан вымышленного государства. Также отвечает на телефонные обращения граждан из других областей.",
            },
            categories=("consular", "consular.documents", "consular.citizen-assistance"),
            hours="office",
            languages=("ar", "en", "uk"),
            audience="foreigners students",
            documents=("passport",),
            assured=self.verified(hours=1),
        )

    def specials_after(self) -> None:
        now = self.now
        ua = {t.key: t for t in UA_TEMPLATES}
        # Scenario 2: the consular section in Odesa is closed today, with a reason in several
        # languages, until tonight, pointing at the one in Kyiv that is open.
        odesa_tz = zone(PLACES_BY_CODE["odesa"].timezone)
        local = now.astimezone(odesa_tz)
        end_of_day = dt.datetime.combine(local.date(), dt.time(23, 30), odesa_tz).astimezone(dt.UTC)
        until = (
            end_of_day
            if end_of_day > now + dt.timedelta(minutes=30)
            else now + dt.timedelta(hours=3)
        )
        self.consulate_until = until
        self.listing(
            "odesa:consular",
            org="consular",
            city="odesa",
            source="ar",
            names={
                "ar": "القسم القنصلي (تجريبي) — أوديسا",
                "en": "Consular section (demo) — Odesa",
                "uk": "Консульський відділ (демо) — Одеса",
                "ru": "Консульский отдел (демо) — Одесса",
            },
            descriptions={
                "ar": "مساعدة قنصلية للطلاب والعمال من دولة وهمية: جوازات سفر طارئة وشهادات وتسجيل للإجلاء.",
                "en": "Consular help for students and workers from a fictional state: emergency passports, certificates and evacuation registration.",
                "uk": "Консульська допомога студентам і працівникам з вигаданої держави: тимчасові паспорти, довідки та реєстрація на евакуацію.",
                "ru": "Консульская помощь студентам и работникам из вымышленного государства: временные паспорта, справки и регистрация на эвакуацию.",
            },
            categories=("consular", "consular.documents", "consular.citizen-assistance"),
            hours="office",
            languages=("ar", "en", "uk"),
            audience="foreigners students",
            documents=("passport",),
            assured=self.verified(hours=2),
            status="temporarily closed",
            status_reason={
                "ar": "مغلق اليوم بعد أن تضررت نوافذ المبنى في غارة الليلة الماضية. تواصلوا مع القسم القنصلي في كييف.",
                "en": "Closed today: the building's windows were damaged in last night's strike. Please contact the consular section in Kyiv.",
                "uk": "Сьогодні зачинено: вночі під час обстрілу пошкоджено вікна будівлі. Звертайтеся до консульського відділу в Києві.",
                "ru": "Сегодня закрыто: ночью во время обстрела повреждены окна здания. Обращайтесь в консульский отдел в Киеве.",
            },
            status_since=now - dt.timedelta(hours=2),
            status_until=until,
            alternative=self.kyiv_consulate,
        )
        # A full shelter (Kyiv), pointing at another collective centre with free beds.
        self.from_template(
            ua["collective"],
            "kyiv",
            1,
            capacity=(60, 0),
            capacity_updated_hours=1,
            assured=self.verified(hours=1),
            status="full",
            status_reason={
                "uk": "Вільних місць немає. Спробуйте гуртожиток № 2.",
                "en": "No free beds. Try Dormitory No. 2.",
                "ru": "Свободных мест нет. Попробуйте общежитие № 2.",
            },
            status_since=now - dt.timedelta(hours=5),
            alternative=self.kyiv_collective_2,
        )
        # Scenario 6: confidential shelters for women and children, reachable by hotline only.
        for city in ("kyiv", "lviv"):
            self.listing(
                f"{city}:confidential-shelter",
                org="bluedoor",
                city=city,
                source="uk",
                names={
                    "uk": "Притулок для жінок і дітей (адреса конфіденційна)",
                    "en": "Shelter for women and children (confidential address)",
                    "ru": "Приют для женщин и детей (адрес конфиденциальный)",
                    "pl": "Schronisko dla kobiet i dzieci (adres poufny)",
                    "de": "Schutzunterkunft für Frauen und Kinder (vertrauliche Adresse)",
                    "ar": "ملجأ للنساء والأطفال (العنوان سري)",
                },
                descriptions={
                    "uk": "Безпечне житло для жінок і дітей, які постраждали від насильства. Адресу повідомляють лише після дзвінка на гарячу лінію.",
                    "en": "Safe housing for women and children affected by violence. The address is given only after a call to the hotline.",
                    "ru": "Безопасное жильё для женщин и детей, пострадавших от насилия. Адрес сообщают только после звонка на горячую линию.",
                    "pl": "Bezpieczne schronienie dla kobiet i dzieci dotkniętych przemocą. Adres podajemy dopiero po telefonie na infolinię.",
                    "de": "Geschützte Unterkunft für Frauen und Kinder, die Gewalt erlebt haben. Die Adresse erfahren Sie nur über die Hotline.",
                    "ar": "سكن آمن للنساء والأطفال المتضررين من العنف. لا يُعطى العنوان إلا بعد الاتصال بالخط الساخن.",
                },
                categories=(
                    "protection",
                    "protection.gbv",
                    "shelter",
                    "shelter.emergency-accommodation",
                    "children-family",
                ),
                hours="24/7",
                capacity=(20, 6),
                audience="women children",
                languages=("uk", "ru", "en"),
                privacy="confidential",
                location={
                    "women_children_only": True,
                    "shelter_type": "emergency_accommodation",
                    "has_heating": True,
                    "has_water": True,
                    "has_toilets": True,
                },
                hotline=PHONE_PREFIX[city][0] + "0999".zfill(PHONE_PREFIX[city][1]),
                assured=self.verified(hours=6),
            )
        # A stale warming point in Kharkiv, open by day only.
        self.from_template(
            ua["warming"],
            "kharkiv",
            4,
            hours="day",
            assured=self.verified(stale=True),
            location={**ua["warming"].location, "has_power": False},
        )
        self.exceptions()
        self.notices()

    def exceptions(self) -> None:
        rows = self.rows
        tomorrow = self.local_today("kyiv") + dt.timedelta(days=1)
        eid = rows.new_id()
        reason = rows.texts(
            "schedule_exception",
            eid,
            "reason",
            "uk",
            {"uk": "Санітарний день", "en": "Closed for cleaning", "ru": "Санитарный день"},
        )
        rows.add(
            m.ScheduleException,
            id=eid,
            location_id=demo_id("location:kyiv:legal:1"),
            date=tomorrow,
            closed=True,
            reason=reason,
            source_locale="uk",
        )
        day = self.local_today("lviv") + dt.timedelta(days=2)
        eid = rows.new_id()
        reason = rows.texts(
            "schedule_exception",
            eid,
            "reason",
            "uk",
            {
                "uk": "Святковий день: скорочені години",
                "en": "Public holiday: shorter hours",
                "ru": "Праздничный день: сокращённые часы",
            },
        )
        rows.add(
            m.ScheduleException,
            id=eid,
            location_id=demo_id("location:lviv:pharmacy:1"),
            date=day,
            closed=False,
            opens_at=dt.time(10),
            closes_at=dt.time(14),
            reason=reason,
            source_locale="uk",
        )
        day = self.local_today("berlin") + dt.timedelta(days=3)
        eid = rows.new_id()
        reason = rows.texts(
            "schedule_exception",
            eid,
            "reason",
            "de",
            {
                "de": "Feiertag: geschlossen",
                "en": "Public holiday: closed",
                "uk": "Святковий день: зачинено",
            },
        )
        rows.add(
            m.ScheduleException,
            id=eid,
            location_id=demo_id("location:berlin:medical:1"),
            date=day,
            closed=True,
            reason=reason,
            source_locale="de",
        )

    def notices(self) -> None:
        now, rows = self.now, self.rows

        def notice(
            key: str,
            region: str,
            severity: str,
            source: str,
            title: Texts,
            body: Texts,
            since: dt.timedelta,
            until: dt.datetime,
            kind: str = "general",
        ) -> None:
            nid = demo_id(f"notice:{key}")
            body = {loc: demo_text(v, loc) for loc, v in body.items()}
            rows.add(
                m.Notice,
                id=nid,
                region_id=place_id(region),
                severity=severity,
                kind=kind,
                title=rows.texts("notice", nid, "title", source, title),
                body=rows.texts("notice", nid, "body", source, body),
                source_locale=source,
                valid_from=now - since,
                valid_until=until,
                is_demo=True,
            )

        notice(
            "dnipro-alert",
            "UA-12",
            "danger",
            "uk",
            {
                "uk": "Повітряна тривога в Дніпропетровській області",
                "en": "Air-raid alert in Dnipropetrovsk Oblast",
                "ru": "Воздушная тревога в Днепропетровской области",
                "ar": "إنذار من غارة جوية في مقاطعة دنيبروبيتروفسك",
                "pl": "Alarm przeciwlotniczy w obwodzie dniepropetrowskim",
                "de": "Luftalarm in der Oblast Dnipropetrowsk",
            },
            {
                "uk": "Негайно пройдіть до найближчого укриття. Не повертайтеся, доки не оголосять відбій.",
                "en": "Go to the nearest shelter now. Do not leave until the all-clear is given.",
                "ru": "Немедленно пройдите в ближайшее укрытие. Не выходите, пока не объявят отбой.",
                "ar": "توجّه فورًا إلى أقرب ملجأ. لا تغادره حتى يُعلن انتهاء الإنذار.",
                "pl": "Natychmiast udaj się do najbliższego schronu. Nie wychodź, dopóki nie zostanie odwołany alarm.",
                "de": "Gehen Sie sofort in den nächsten Schutzraum. Bleiben Sie dort, bis Entwarnung gegeben wird.",
            },
            dt.timedelta(minutes=20),
            now + dt.timedelta(hours=3),
            kind="alert",
        )
        notice(
            "kharkiv-power",
            "UA-63",
            "warning",
            "uk",
            {
                "uk": "Графік відключень світла в Харкові на сьогодні",
                "en": "Power cut schedule in Kharkiv today",
                "ru": "График отключений света в Харькове на сегодня",
            },
            {
                "uk": "Черги 1–3 без світла з 14:00 до 18:00, черги 4–6 — з 18:00 до 22:00. Пункти незламності працюють цілодобово.",
                "en": "Groups 1–3 without power 14:00–18:00, groups 4–6 18:00–22:00. Invincibility points are open round the clock.",
                "ru": "Очереди 1–3 без света с 14:00 до 18:00, очереди 4–6 — с 18:00 до 22:00. Пункты несокрушимости работают круглосуточно.",
            },
            dt.timedelta(hours=1),
            now + dt.timedelta(hours=12),
            kind="blackout",
        )
        notice(
            "odesa-consular",
            "UA-51",
            "warning",
            "ar",
            {
                "ar": "القسم القنصلي (تجريبي) في أوديسا مغلق اليوم",
                "en": "The consular section (demo) in Odesa is closed today",
                "uk": "Консульський відділ (демо) в Одесі сьогодні зачинено",
                "ru": "Консульский отдел (демо) в Одессе сегодня закрыт",
            },
            {
                "ar": "بسبب أضرار غارة الليلة الماضية. القسم القنصلي في كييف مفتوح ويرد على الهاتف.",
                "en": "Because of damage from last night's strike. The consular section in Kyiv is open and answers the phone.",
                "uk": "Через пошкодження від нічного обстрілу. Консульський відділ у Києві працює та відповідає на дзвінки.",
                "ru": "Из-за повреждений от ночного обстрела. Консульский отдел в Киеве работает и отвечает на звонки.",
            },
            dt.timedelta(hours=2),
            self.consulate_until,
        )
        notice(
            "warsaw-reception",
            "PL-14",
            "info",
            "pl",
            {
                "pl": "Punkt recepcyjny nr 2 przyjmuje także osoby ze zwierzętami",
                "uk": "Пункт прийому № 2 приймає також людей із тваринами",
                "en": "Reception point No. 2 also takes people with pets",
            },
            {
                "pl": "Wolne miejsca dla rodzin z dziećmi i zwierzętami. Prosimy zabrać smycz i transporter.",
                "uk": "Є вільні місця для родин із дітьми та тваринами. Візьміть повідець і переноску.",
                "en": "Free places for families with children and pets. Please bring a lead and a carrier.",
            },
            dt.timedelta(days=1),
            now + dt.timedelta(days=6),
        )


def demo_counts(session: Session) -> dict[str, int]:
    def n(model: Any) -> int:
        return (
            session.scalar(select(func.count()).select_from(model).where(model.is_demo.is_(True)))
            or 0
        )

    return {
        "organizations": n(m.Organization),
        "services": n(m.Service),
        "locations": n(m.Location),
        "notices": n(m.Notice),
    }


def load_demo(session: Session) -> dict[str, int]:
    """Insert the demo dataset and return counts per kind of record (never commits).

    Idempotent: when the demo is already there, nothing is added."""
    ensure_taxonomy(session)
    ensure_places(session)
    if session.get(m.Organization, demo_id("org:warm")) is None:
        now = utcnow()
        builder = DemoBuilder(now)
        builder.build()
        builder.rows.write(session, now=now)
        session.flush()

        reindex_all(session)
    return demo_counts(session)
