"""The gazetteer: countries, regions and cities, named in every UI locale, with every common
spelling in `aliases` (Kyiv Kiev Київ Киев Kijów Kiew كييف) so that search finds a place
whatever script or spelling the reader types. Stable ids (uuid5 of the code).

Countries and regions use ISO 3166-1/3166-2 codes; cities use a lowercase slug ("kyiv").
Coordinates are approximate city centres (public knowledge).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.taxonomy import LOCALES, stable_id, sync_translations


def place_id(code: str) -> uuid.UUID:
    """The stable id of the place with this code ("UA", "UA-63", "kharkiv")."""
    return stable_id("place", code)


@dataclass(frozen=True, slots=True)
class PlaceDef:
    code: str
    kind: m.PlaceKind
    parent: str | None
    names: dict[str, str]  # locale → name
    timezone: str
    latitude: float | None = None
    longitude: float | None = None
    extra_aliases: tuple[str, ...] = ()

    @property
    def aliases(self) -> str:
        """Every spelling, deduplicated, in a stable order: names first, then extra spellings."""
        words = [self.names[loc] for loc in LOCALES] + list(self.extra_aliases)
        return " ".join(dict.fromkeys(w for w in words if w))


def _names(en: str, uk: str, ru: str, pl: str, de: str, ar: str) -> dict[str, str]:
    return {"en": en, "uk": uk, "ru": ru, "pl": pl, "de": de, "ar": ar}


# code, en, uk, ru, pl, de, ar, timezone, extra aliases
_COUNTRIES: tuple[tuple[str, str, str, str, str, str, str, str, str], ...] = (
    ("UA", "Ukraine", "Україна", "Украина", "Ukraina", "Ukraine", "أوكرانيا", "Europe/Kyiv", "Ukrajina"),
    ("PL", "Poland", "Польща", "Польша", "Polska", "Polen", "بولندا", "Europe/Warsaw", "Polshcha"),
    ("DE", "Germany", "Німеччина", "Германия", "Niemcy", "Deutschland", "ألمانيا", "Europe/Berlin", ""),
    ("MD", "Moldova", "Молдова", "Молдова", "Mołdawia", "Moldau", "مولدوفا", "Europe/Chisinau",
     "Молдавия Moldawien Republik Moldau"),
    ("RO", "Romania", "Румунія", "Румыния", "Rumunia", "Rumänien", "رومانيا", "Europe/Bucharest", "România"),
    ("CZ", "Czechia", "Чехія", "Чехия", "Czechy", "Tschechien", "التشيك", "Europe/Prague",
     "Česko Czech Republic"),
    ("SK", "Slovakia", "Словаччина", "Словакия", "Słowacja", "Slowakei", "سلوفاكيا", "Europe/Bratislava",
     "Slovensko"),
    ("HU", "Hungary", "Угорщина", "Венгрия", "Węgry", "Ungarn", "المجر", "Europe/Budapest", "Magyarország"),
)

# code, en, uk, ru, pl, de, ar, extra aliases
_UA_REGIONS: tuple[tuple[str, str, str, str, str, str, str, str], ...] = (
    ("UA-30", "Kyiv City", "місто Київ", "город Киев", "Kijów (miasto)", "Kiew (Stadt)", "مدينة كييف", ""),
    ("UA-32", "Kyiv Oblast", "Київська область", "Киевская область", "obwód kijowski", "Oblast Kiew",
     "مقاطعة كييف", "Київщина Киевщина Kyivshchyna"),
    ("UA-63", "Kharkiv Oblast", "Харківська область", "Харьковская область", "obwód charkowski",
     "Oblast Charkiw", "مقاطعة خاركيف", "Харківщина Харьковщина Kharkivshchyna"),
    ("UA-51", "Odesa Oblast", "Одеська область", "Одесская область", "obwód odeski", "Oblast Odessa",
     "مقاطعة أوديسا", "Одещина Odeshchyna"),
    ("UA-46", "Lviv Oblast", "Львівська область", "Львовская область", "obwód lwowski", "Oblast Lwiw",
     "مقاطعة لفيف", "Львівщина Львовщина Lvivshchyna"),
    ("UA-12", "Dnipropetrovsk Oblast", "Дніпропетровська область", "Днепропетровская область",
     "obwód dniepropetrowski", "Oblast Dnipropetrowsk", "مقاطعة دنيبروبيتروفسك",
     "Дніпропетровщина Дніпровщина Dnipro region"),
    ("UA-23", "Zaporizhzhia Oblast", "Запорізька область", "Запорожская область", "obwód zaporoski",
     "Oblast Saporischschja", "مقاطعة زابوريجيا", "Запоріжчина Zaporozhye"),
    ("UA-48", "Mykolaiv Oblast", "Миколаївська область", "Николаевская область", "obwód mikołajowski",
     "Oblast Mykolajiw", "مقاطعة ميكولايف", "Миколаївщина"),
    ("UA-65", "Kherson Oblast", "Херсонська область", "Херсонская область", "obwód chersoński",
     "Oblast Cherson", "مقاطعة خيرسون", "Херсонщина"),
    ("UA-74", "Chernihiv Oblast", "Чернігівська область", "Черниговская область", "obwód czernihowski",
     "Oblast Tschernihiw", "مقاطعة تشيرنيهيف", "Чернігівщина"),
    ("UA-59", "Sumy Oblast", "Сумська область", "Сумская область", "obwód sumski", "Oblast Sumy",
     "مقاطعة سومي", "Сумщина"),
    ("UA-53", "Poltava Oblast", "Полтавська область", "Полтавская область", "obwód połtawski",
     "Oblast Poltawa", "مقاطعة بولتافا", "Полтавщина"),
    ("UA-05", "Vinnytsia Oblast", "Вінницька область", "Винницкая область", "obwód winnicki",
     "Oblast Winnyzja", "مقاطعة فينيتسا", "Вінниччина"),
    ("UA-26", "Ivano-Frankivsk Oblast", "Івано-Франківська область", "Ивано-Франковская область",
     "obwód iwanofrankiwski", "Oblast Iwano-Frankiwsk", "مقاطعة إيفانو فرانكيفسك", "Прикарпаття"),
    ("UA-21", "Zakarpattia Oblast", "Закарпатська область", "Закарпатская область", "obwód zakarpacki",
     "Oblast Transkarpatien", "مقاطعة زاكارباتيا", "Закарпаття Transcarpathia"),
    ("UA-18", "Zhytomyr Oblast", "Житомирська область", "Житомирская область", "obwód żytomierski",
     "Oblast Schytomyr", "مقاطعة جيتومير", "Житомирщина"),
    ("UA-71", "Cherkasy Oblast", "Черкаська область", "Черкасская область", "obwód czerkaski",
     "Oblast Tscherkassy", "مقاطعة تشيركاسي", "Черкащина"),
    ("UA-56", "Rivne Oblast", "Рівненська область", "Ровенская область", "obwód rówieński",
     "Oblast Riwne", "مقاطعة ريفنه", "Рівненщина"),
    ("UA-07", "Volyn Oblast", "Волинська область", "Волынская область", "obwód wołyński",
     "Oblast Wolyn", "مقاطعة فولين", "Волинь"),
    ("UA-61", "Ternopil Oblast", "Тернопільська область", "Тернопольская область", "obwód tarnopolski",
     "Oblast Ternopil", "مقاطعة ترنوبل", "Тернопільщина"),
    ("UA-77", "Chernivtsi Oblast", "Чернівецька область", "Черновицкая область", "obwód czerniowiecki",
     "Oblast Tscherniwzi", "مقاطعة تشيرنيفتسي", "Буковина Bukovina"),
    ("UA-68", "Khmelnytskyi Oblast", "Хмельницька область", "Хмельницкая область", "obwód chmielnicki",
     "Oblast Chmelnyzkyj", "مقاطعة خميلنيتسكي", "Хмельниччина"),
    ("UA-35", "Kirovohrad Oblast", "Кіровоградська область", "Кировоградская область",
     "obwód kirowohradzki", "Oblast Kirowohrad", "مقاطعة كيروفوهراد", "Кіровоградщина"),
    ("UA-14", "Donetsk Oblast", "Донецька область", "Донецкая область", "obwód doniecki",
     "Oblast Donezk", "مقاطعة دونيتسك", "Донеччина Donbas Донбас"),
    ("UA-09", "Luhansk Oblast", "Луганська область", "Луганская область", "obwód ługański",
     "Oblast Luhansk", "مقاطعة لوهانسك", "Луганщина"),
    ("UA-43", "Autonomous Republic of Crimea", "Автономна Республіка Крим", "Автономная Республика Крым",
     "Autonomiczna Republika Krymu", "Autonome Republik Krim", "جمهورية القرم ذاتية الحكم",
     "Crimea Krym Крим Крым Krim"),
    ("UA-40", "Sevastopol", "Севастополь", "Севастополь", "Sewastopol", "Sewastopol", "سيفاستوبول", ""),
)

# code, country, en, uk, ru, pl, de, ar, extra aliases
_HOST_REGIONS: tuple[tuple[str, str, str, str, str, str, str, str, str], ...] = (
    ("PL-14", "PL", "Masovian Voivodeship", "Мазовецьке воєводство", "Мазовецкое воеводство",
     "województwo mazowieckie", "Woiwodschaft Masowien", "مقاطعة مازوفيا", "Mazowsze Mazovia"),
    ("PL-12", "PL", "Lesser Poland Voivodeship", "Малопольське воєводство", "Малопольское воеводство",
     "województwo małopolskie", "Woiwodschaft Kleinpolen", "مقاطعة بولندا الصغرى", "Małopolska"),
    ("PL-18", "PL", "Subcarpathian Voivodeship", "Підкарпатське воєводство", "Подкарпатское воеводство",
     "województwo podkarpackie", "Woiwodschaft Karpatenvorland", "مقاطعة بودكارباتسكي", "Podkarpacie"),
    ("PL-02", "PL", "Lower Silesian Voivodeship", "Нижньосілезьке воєводство",
     "Нижнесилезское воеводство", "województwo dolnośląskie", "Woiwodschaft Niederschlesien",
     "مقاطعة سيليزيا السفلى", "Dolny Śląsk"),
    ("PL-22", "PL", "Pomeranian Voivodeship", "Поморське воєводство", "Поморское воеводство",
     "województwo pomorskie", "Woiwodschaft Pommern", "مقاطعة بوميرانيا", "Pomorze"),
    ("PL-06", "PL", "Lublin Voivodeship", "Люблінське воєводство", "Люблинское воеводство",
     "województwo lubelskie", "Woiwodschaft Lublin", "مقاطعة لوبلين", "Lubelszczyzna"),
    ("DE-BE", "DE", "Berlin (state)", "земля Берлін", "земля Берлин", "Berlin (land)", "Land Berlin",
     "ولاية برلين", ""),
    ("DE-BY", "DE", "Bavaria", "Баварія", "Бавария", "Bawaria", "Bayern", "بافاريا", "Bayern"),
    ("DE-HH", "DE", "Hamburg (state)", "земля Гамбург", "земля Гамбург", "Hamburg (land)",
     "Freie und Hansestadt Hamburg", "ولاية هامبورغ", ""),
    ("MD-CU", "MD", "Chișinău Municipality", "муніципій Кишинів", "муниципий Кишинёв",
     "Kiszyniów (municypium)", "Munizipium Chișinău", "بلدية كيشيناو", "Chisinau Kishinev"),
    ("RO-B", "RO", "Bucharest (municipality)", "муніципій Бухарест", "муниципий Бухарест",
     "Bukareszt (municypium)", "Munizipium Bukarest", "بلدية بوخارست", "București"),
    ("RO-IS", "RO", "Iași County", "повіт Ясси", "жудец Яссы", "okręg Jassy", "Kreis Iași",
     "محافظة ياش", "Iasi"),
    ("CZ-10", "CZ", "Prague (region)", "Прага (край)", "Прага (край)", "Praga (kraj)",
     "Hauptstadt Prag", "إقليم براغ", "Praha"),
    ("CZ-64", "CZ", "South Moravian Region", "Південноморавський край", "Южноморавский край",
     "kraj południowomorawski", "Südmährische Region", "إقليم مورافيا الجنوبية", "Jihomoravský kraj"),
    ("SK-BL", "SK", "Bratislava Region", "Братиславський край", "Братиславский край",
     "kraj bratysławski", "Bratislavský kraj", "إقليم براتيسلافا", "Bratislavský kraj"),
    ("SK-KI", "SK", "Košice Region", "Кошицький край", "Кошицкий край", "kraj koszycki",
     "Košický kraj", "إقليم كوشيتسه", "Kosice"),
    ("HU-BU", "HU", "Budapest (capital)", "Будапешт (столиця)", "Будапешт (столица)",
     "Budapeszt (stolica)", "Budapest (Hauptstadt)", "بودابست العاصمة", ""),
)

# code, region, en, uk, ru, pl, de, ar, lat, lon, extra aliases
_CITIES: tuple[tuple[str, str, str, str, str, str, str, str, float, float, str], ...] = (
    ("kyiv", "UA-30", "Kyiv", "Київ", "Киев", "Kijów", "Kiew", "كييف", 50.4501, 30.5234,
     "Kiev Kyyiv Kijev Kiiv Kyjiw Kijow Kyjev"),
    ("kharkiv", "UA-63", "Kharkiv", "Харків", "Харьков", "Charków", "Charkiw", "خاركيف", 49.9935, 36.2304,
     "Kharkov Kharkiw Charkow Charkov خاركوف"),
    ("odesa", "UA-51", "Odesa", "Одеса", "Одесса", "Odessa", "Odessa", "أوديسا", 46.4825, 30.7233,
     "Odessa"),
    ("lviv", "UA-46", "Lviv", "Львів", "Львов", "Lwów", "Lwiw", "لفيف", 49.8397, 24.0297,
     "Lvov Lemberg Lwow Leopolis"),
    ("dnipro", "UA-12", "Dnipro", "Дніпро", "Днепр", "Dniepr", "Dnipro", "دنيبرو", 48.4647, 35.0462,
     "Dnepr Dnipropetrovsk Dnepropetrovsk Дніпропетровськ Днепропетровск Dniepropetrowsk Dnipropetrowsk"),
    ("zaporizhzhia", "UA-23", "Zaporizhzhia", "Запоріжжя", "Запорожье", "Zaporoże", "Saporischschja",
     "زابوريجيا", 47.8388, 35.1396, "Zaporozhye Zaporizhia Zaporizhzhya Zaporoze"),
    ("mykolaiv", "UA-48", "Mykolaiv", "Миколаїв", "Николаев", "Mikołajów", "Mykolajiw", "ميكولايف",
     46.9750, 31.9946, "Nikolaev Nikolayev Mykolayiv Mikolajow"),
    ("kherson", "UA-65", "Kherson", "Херсон", "Херсон", "Chersoń", "Cherson", "خيرسون", 46.6354, 32.6169,
     "Cherson Kherson"),
    ("chernihiv", "UA-74", "Chernihiv", "Чернігів", "Чернигов", "Czernihów", "Tschernihiw", "تشيرنيهيف",
     51.4982, 31.2893, "Chernigov Tschernigow Czernihow"),
    ("sumy", "UA-59", "Sumy", "Суми", "Сумы", "Sumy", "Sumy", "سومي", 50.9077, 34.7981, ""),
    ("poltava", "UA-53", "Poltava", "Полтава", "Полтава", "Połtawa", "Poltawa", "بولتافا", 49.5883, 34.5514,
     "Poltawa"),
    ("vinnytsia", "UA-05", "Vinnytsia", "Вінниця", "Винница", "Winnica", "Winnyzja", "فينيتسا",
     49.2331, 28.4682, "Vinnitsa Vinnytsya Winniza"),
    ("ivano-frankivsk", "UA-26", "Ivano-Frankivsk", "Івано-Франківськ", "Ивано-Франковск",
     "Iwano-Frankiwsk", "Iwano-Frankiwsk", "إيفانو فرانكيفسك", 48.9226, 24.7111,
     "Ivano-Frankovsk Stanisławów Stanislav Frankivsk Франківськ"),
    ("uzhhorod", "UA-21", "Uzhhorod", "Ужгород", "Ужгород", "Użhorod", "Uschhorod", "أوجهورود",
     48.6208, 22.2879, "Uzhgorod Ungvár Ungvar"),
    ("zhytomyr", "UA-18", "Zhytomyr", "Житомир", "Житомир", "Żytomierz", "Schytomyr", "جيتومير",
     50.2547, 28.6587, "Zhitomir Zytomierz"),
    ("cherkasy", "UA-71", "Cherkasy", "Черкаси", "Черкассы", "Czerkasy", "Tscherkassy", "تشيركاسي",
     49.4444, 32.0598, "Cherkassy"),
    ("rivne", "UA-56", "Rivne", "Рівне", "Ровно", "Równe", "Riwne", "ريفنه", 50.6199, 26.2516,
     "Rovno Rowne"),
    ("lutsk", "UA-07", "Lutsk", "Луцьк", "Луцк", "Łuck", "Luzk", "لوتسك", 50.7472, 25.3254, "Luck"),
    ("ternopil", "UA-61", "Ternopil", "Тернопіль", "Тернополь", "Tarnopol", "Ternopil", "ترنوبل",
     49.5535, 25.5948, "Ternopol"),
    ("chernivtsi", "UA-77", "Chernivtsi", "Чернівці", "Черновцы", "Czerniowce", "Czernowitz",
     "تشيرنيفتسي", 48.2921, 25.9358, "Chernovtsy Cernăuți Cernauti"),
    ("khmelnytskyi", "UA-68", "Khmelnytskyi", "Хмельницький", "Хмельницкий", "Chmielnicki",
     "Chmelnyzkyj", "خميلنيتسكي", 49.4230, 26.9871, "Khmelnitsky Khmelnytskyy Proskurov"),
    ("kropyvnytskyi", "UA-35", "Kropyvnytskyi", "Кропивницький", "Кропивницкий", "Kropywnycki",
     "Kropywnyzkyj", "كروبيفنيتسكي", 48.5079, 32.2623,
     "Kirovohrad Kirovograd Кіровоград Кировоград Kropyvnytskyy"),
    ("kramatorsk", "UA-14", "Kramatorsk", "Краматорськ", "Краматорск", "Kramatorsk", "Kramatorsk",
     "كراماتورسك", 48.7389, 37.5848, ""),
    ("warsaw", "PL-14", "Warsaw", "Варшава", "Варшава", "Warszawa", "Warschau", "وارسو", 52.2297, 21.0122,
     "Varsovie Varshava Varsovia"),
    ("krakow", "PL-12", "Kraków", "Краків", "Краков", "Kraków", "Krakau", "كراكوف", 50.0647, 19.9450,
     "Krakow Cracow Krakiv Cracovia"),
    ("przemysl", "PL-18", "Przemyśl", "Перемишль", "Перемышль", "Przemyśl", "Przemyśl", "بشيميشل",
     49.7838, 22.7678, "Przemysl Peremyshl Peremyshl'"),
    ("rzeszow", "PL-18", "Rzeszów", "Жешув", "Жешув", "Rzeszów", "Rzeszów", "جيشوف", 50.0412, 21.9991,
     "Rzeszow Ryashiv Ряшів"),
    ("wroclaw", "PL-02", "Wrocław", "Вроцлав", "Вроцлав", "Wrocław", "Breslau", "فروتسواف",
     51.1079, 17.0385, "Wroclaw Vrotslav"),
    ("gdansk", "PL-22", "Gdańsk", "Гданськ", "Гданьск", "Gdańsk", "Danzig", "غدانسك", 54.3520, 18.6466,
     "Gdansk"),
    ("lublin", "PL-06", "Lublin", "Люблін", "Люблин", "Lublin", "Lublin", "لوبلين", 51.2465, 22.5684,
     "Liublin"),
    ("berlin", "DE-BE", "Berlin", "Берлін", "Берлин", "Berlin", "Berlin", "برلين", 52.5200, 13.4050, ""),
    ("munich", "DE-BY", "Munich", "Мюнхен", "Мюнхен", "Monachium", "München", "ميونخ", 48.1351, 11.5820,
     "Muenchen Munchen Myunkhen"),
    ("hamburg", "DE-HH", "Hamburg", "Гамбург", "Гамбург", "Hamburg", "Hamburg", "هامبورغ",
     53.5511, 9.9937, "Gamburg"),
    ("chisinau", "MD-CU", "Chișinău", "Кишинів", "Кишинёв", "Kiszyniów", "Chișinău", "كيشيناو",
     47.0105, 28.8638, "Chisinau Chişinău Kishinev Kishinyov Кишинев Kischinau Kischinjow Kyshyniv"),
    ("bucharest", "RO-B", "Bucharest", "Бухарест", "Бухарест", "Bukareszt", "Bukarest", "بوخارست",
     44.4268, 26.1025, "București Bucuresti Bucureşti Bukharest"),
    ("iasi", "RO-IS", "Iași", "Ясси", "Яссы", "Jassy", "Iași", "ياش", 47.1585, 27.6014,
     "Iasi Iaşi Jassy Yassy"),
    ("prague", "CZ-10", "Prague", "Прага", "Прага", "Praga", "Prag", "براغ", 50.0755, 14.4378,
     "Praha Praga"),
    ("brno", "CZ-64", "Brno", "Брно", "Брно", "Brno", "Brünn", "برنو", 49.1951, 16.6068, "Brunn"),
    ("bratislava", "SK-BL", "Bratislava", "Братислава", "Братислава", "Bratysława", "Bratislava",
     "براتيسلافا", 48.1486, 17.1077, "Pressburg Pozsony Bratyslawa"),
    ("kosice", "SK-KI", "Košice", "Кошиці", "Кошице", "Koszyce", "Košice", "كوشيتسه", 48.7164, 21.2611,
     "Kosice Kaschau Kassa"),
    ("budapest", "HU-BU", "Budapest", "Будапешт", "Будапешт", "Budapeszt", "Budapest", "بودابست",
     47.4979, 19.0402, "Budapesht"),
)

_COUNTRY_TZ = {c[0]: c[7] for c in _COUNTRIES}


def _build() -> tuple[PlaceDef, ...]:
    out: list[PlaceDef] = []
    for code, en, uk, ru, pl, de, ar, tz, extra in _COUNTRIES:
        out.append(PlaceDef(code, m.PlaceKind.country, None, _names(en, uk, ru, pl, de, ar), tz,
                            extra_aliases=tuple(extra.split())))
    for code, en, uk, ru, pl, de, ar, extra in _UA_REGIONS:
        out.append(PlaceDef(code, m.PlaceKind.region, "UA", _names(en, uk, ru, pl, de, ar),
                            "Europe/Kyiv", extra_aliases=tuple(extra.split())))
    for code, country, en, uk, ru, pl, de, ar, extra in _HOST_REGIONS:
        out.append(PlaceDef(code, m.PlaceKind.region, country, _names(en, uk, ru, pl, de, ar),
                            _COUNTRY_TZ[country], extra_aliases=tuple(extra.split())))
    for code, region, en, uk, ru, pl, de, ar, lat, lon, extra in _CITIES:
        out.append(PlaceDef(code, m.PlaceKind.city, region, _names(en, uk, ru, pl, de, ar),
                            _COUNTRY_TZ[region.split("-")[0]], lat, lon, tuple(extra.split())))
    return tuple(out)


#: Every place of the gazetteer, parents before children.
GAZETTEER: tuple[PlaceDef, ...] = _build()
PLACES_BY_CODE: dict[str, PlaceDef] = {p.code: p for p in GAZETTEER}
CITIES: tuple[PlaceDef, ...] = tuple(p for p in GAZETTEER if p.kind is m.PlaceKind.city)


def country_of(code: str) -> str:
    """ISO 3166-1 code of the country a place is in."""
    place = PLACES_BY_CODE[code]
    while place.parent is not None:
        place = PLACES_BY_CODE[place.parent]
    return place.code


def region_of(code: str) -> str | None:
    """The region code a city is in (the region itself for a region, None for a country)."""
    place = PLACES_BY_CODE[code]
    if place.kind is m.PlaceKind.city:
        return place.parent
    return place.code if place.kind is m.PlaceKind.region else None


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.000001"))


def ensure_places(session: Session) -> None:
    """Create or refresh the gazetteer (idempotent; never commits)."""
    ids = [place_id(p.code) for p in GAZETTEER]
    existing = {p.id: p for p in session.scalars(select(m.Place).where(m.Place.id.in_(ids)))}
    texts: dict[tuple[uuid.UUID, str, str], str] = {}
    for kind in (m.PlaceKind.country, m.PlaceKind.region, m.PlaceKind.city):
        for p in GAZETTEER:
            if p.kind is not kind:
                continue
            pid = place_id(p.code)
            values = {
                "kind": p.kind, "code": p.code, "name": p.names["en"], "source_locale": "en",
                "parent_id": place_id(p.parent) if p.parent else None, "aliases": p.aliases,
                "latitude": _dec(p.latitude), "longitude": _dec(p.longitude),
                "timezone": p.timezone, "archived_at": None,
            }
            place = existing.get(pid)
            if place is None:
                session.add(m.Place(id=pid, **values))
            else:
                for key, value in values.items():
                    if getattr(place, key) != value:
                        setattr(place, key, value)
            for locale in LOCALES:
                if locale != "en":
                    texts[(pid, "name", locale)] = p.names[locale]
        session.flush()
    sync_translations(session, "place", texts)
    session.flush()
