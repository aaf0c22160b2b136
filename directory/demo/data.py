"""Hand-written fictional texts the demo dataset is built from: organisations, kinds of service
and documents. Every name is invented; every organisation name starts with "Demo"."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Texts = dict[str, str]


@dataclass(frozen=True)
class OrgDef:
    key: str
    source: str
    names: Texts


@dataclass(frozen=True)
class ServiceTpl:
    key: str
    org: str
    categories: tuple[str, ...]
    names: Texts  # may hold "{n}" (a number, so that several can exist in one city)
    descriptions: Texts
    hours: str = "office"  # key of HOURS, or "24/7"
    location: dict[str, Any] = field(default_factory=dict)  # Location column values
    capacity: tuple[int, int] | None = None  # (min, max) of capacity_maximum
    audience: str = "any_nationality"
    free: bool = True
    documents: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("uk", "ru")
    open_during_alert: bool | None = None
    approximate: bool = False


#: Weekly hours presets: list of (byday, opens, closes).
HOURS: dict[str, list[tuple[str, str, str]]] = {
    "office": [("MO,TU,WE,TH,FR", "09:00", "18:00")],
    "day": [("MO,TU,WE,TH,FR,SA", "08:00", "20:00"), ("SU", "10:00", "16:00")],
    "meals": [("MO,TU,WE,TH,FR,SA,SU", "12:00", "15:00")],
    "short": [("TU,TH", "10:00", "14:00"), ("SA", "10:00", "13:00")],
    "evening": [("MO,WE,FR", "17:00", "20:00")],
}

LANGUAGE_NAMES = {
    "uk": "Ukrainian",
    "ru": "Russian",
    "en": "English",
    "pl": "Polish",
    "de": "German",
    "ar": "Arabic",
    "ro": "Romanian",
    "cs": "Czech",
    "hu": "Hungarian",
}

DOCUMENTS: dict[str, Texts] = {
    "passport": {
        "en": "Passport or ID card",
        "uk": "Паспорт або ID-картка",
        "ru": "Паспорт или ID-карта",
        "pl": "Paszport lub dowód osobisty",
        "de": "Reisepass oder Personalausweis",
        "ar": "جواز السفر أو بطاقة الهوية",
    },
    "idp": {
        "en": "IDP certificate",
        "uk": "Довідка ВПО",
        "ru": "Справка ВПЛ",
        "pl": "Zaświadczenie osoby wewnętrznie przesiedlonej",
        "de": "Bescheinigung als binnenvertriebene Person",
        "ar": "شهادة النزوح الداخلي",
    },
    "tax": {
        "en": "Tax ID number (RNOKPP)",
        "uk": "РНОКПП (ідентифікаційний код)",
        "ru": "РНУКПН (идентификационный код)",
        "pl": "Ukraiński numer identyfikacji podatkowej",
        "de": "Ukrainische Steuernummer",
        "ar": "الرقم الضريبي الأوكراني",
    },
    "prescription": {
        "en": "Doctor's prescription",
        "uk": "Рецепт лікаря",
        "ru": "Рецепт врача",
        "pl": "Recepta lekarska",
        "de": "Ärztliches Rezept",
        "ar": "وصفة طبية",
    },
    "protection": {
        "en": "Proof of temporary protection",
        "uk": "Документ про тимчасовий захист",
        "ru": "Документ о временной защите",
        "pl": "Dokument potwierdzający ochronę czasową",
        "de": "Nachweis des vorübergehenden Schutzes",
        "ar": "وثيقة تثبت الحماية المؤقتة",
    },
}

ORGS: tuple[OrgDef, ...] = (
    OrgDef(
        "warm",
        "uk",
        {
            "uk": "Демо: Волонтерська мережа «Теплі руки»",
            "en": "Demo: Warm Hands Volunteer Network",
        },
    ),
    OrgDef(
        "light",
        "uk",
        {"uk": "Демо: Фонд «Світло в кожен дім»", "en": "Demo: Light in Every Home Foundation"},
    ),
    OrgDef(
        "kitchen",
        "uk",
        {"uk": "Демо: Ініціатива «Відкрита кухня»", "en": "Demo: Open Kitchen Initiative"},
    ),
    OrgDef(
        "basement",
        "uk",
        {
            "uk": "Демо: Громадська спілка «Безпечний підвал»",
            "en": "Demo: Safe Basement Civic Union",
        },
    ),
    OrgDef(
        "doctors",
        "uk",
        {"uk": "Демо: Благодійна організація «Лікарі поруч»", "en": "Demo: Doctors Nearby Charity"},
    ),
    OrgDef(
        "mind",
        "uk",
        {
            "uk": "Демо: Психологічна служба «Тиха гавань»",
            "en": "Demo: Quiet Harbour Psychological Service",
        },
    ),
    OrgDef(
        "law",
        "uk",
        {"uk": "Демо: Юридична клініка «Право на дім»", "en": "Demo: Right to Home Legal Clinic"},
    ),
    OrgDef(
        "cash",
        "uk",
        {
            "uk": "Демо: Гуманітарний фонд «Спільна скарбничка»",
            "en": "Demo: Common Purse Humanitarian Fund",
        },
    ),
    OrgDef(
        "evac",
        "uk",
        {
            "uk": "Демо: Волонтери евакуації «Дорога додому»",
            "en": "Demo: Road Home Evacuation Volunteers",
        },
    ),
    OrgDef(
        "mine",
        "uk",
        {
            "uk": "Демо: Група мінної безпеки «Обережний крок»",
            "en": "Demo: Careful Step Mine Awareness Group",
        },
    ),
    OrgDef(
        "kids",
        "uk",
        {"uk": "Демо: Дитячий простір «Соняшник»", "en": "Demo: Sunflower Children's Space"},
    ),
    OrgDef(
        "paws",
        "uk",
        {
            "uk": "Демо: Рятувальники тварин «Лапи й хвости»",
            "en": "Demo: Paws & Tails Animal Rescue",
        },
    ),
    OrgDef(
        "water",
        "uk",
        {"uk": "Демо: Ініціатива «Чисте джерело»", "en": "Demo: Clean Spring Water Initiative"},
    ),
    OrgDef(
        "work",
        "uk",
        {
            "uk": "Демо: Центр працевлаштування «Новий старт»",
            "en": "Demo: New Start Employment Centre",
        },
    ),
    OrgDef(
        "hub",
        "uk",
        {"uk": "Демо: Сусідський центр стійкості", "en": "Demo: Neighbourhood Resilience Hub"},
    ),
    OrgDef(
        "bluedoor",
        "uk",
        {"uk": "Демо: Мережа притулків «Сині двері»", "en": "Demo: Blue Door Shelter Network"},
    ),
    OrgDef(
        "consular",
        "en",
        {
            "en": "Demo: Consular section of a fictional state",
            "ar": "تجريبي: القسم القنصلي لدولة وهمية",
            "uk": "Демо: Консульський відділ вигаданої держави",
            "ru": "Демо: Консульский отдел вымышленного государства",
        },
    ),
    OrgDef(
        "wspolny",
        "pl",
        {
            "pl": "Demo: Fundacja „Wspólny Dom”",
            "en": "Demo: Common Home Foundation",
            "uk": "Демо: Фонд «Спільний дім»",
        },
    ),
    OrgDef(
        "drzwi",
        "pl",
        {
            "pl": "Demo: Stowarzyszenie „Otwarte Drzwi”",
            "en": "Demo: Open Doors Association",
            "uk": "Демо: Асоціація «Відчинені двері»",
        },
    ),
    OrgDef(
        "bruecke",
        "de",
        {
            "de": "Demo: Verein „Brücke der Hoffnung“",
            "en": "Demo: Bridge of Hope Association",
            "uk": "Демо: Спілка «Міст надії»",
        },
    ),
    OrgDef(
        "nachbarn",
        "de",
        {
            "de": "Demo: Initiative „Willkommen, Nachbarn“",
            "en": "Demo: Welcome Neighbours Initiative",
            "uk": "Демо: Ініціатива «Ласкаво просимо, сусіди»",
        },
    ),
    OrgDef(
        "sosed",
        "ru",
        {
            "ru": "Демо: Ассоциация «Добрый сосед»",
            "en": "Demo: Good Neighbour Association",
            "uk": "Демо: Асоціація «Добрий сусід»",
        },
    ),
    OrgDef(
        "crossroads",
        "en",
        {"en": "Demo: Crossroads Refugee Support", "uk": "Демо: Підтримка біженців «Перехрестя»"},
    ),
)

_FULL_SHELTER = {"has_toilets": True, "has_water": True, "has_power": True}
_WARM = {
    "has_heating": True,
    "has_power": True,
    "has_water": True,
    "has_internet": True,
    "has_toilets": True,
}

#: Services in Ukrainian cities (Ukrainian source, English translation; some Russian).
UA_TEMPLATES: tuple[ServiceTpl, ...] = (
    ServiceTpl(
        "shelter-basement",
        "basement",
        ("shelter", "shelter.air-raid"),
        {
            "uk": "Укриття в підвалі школи № {n}",
            "en": "Basement shelter at School No. {n}",
            "ru": "Укрытие в подвале школы № {n}",
        },
        {
            "uk": "Облаштоване укриття з лавами, водою та аптечкою. Відчинене цілодобово під час тривоги; можна з тваринами в переносках.",
            "en": "Equipped shelter with benches, water and a first-aid kit. Open round the clock during alerts; pets in carriers welcome.",
            "ru": "Оборудованное укрытие со скамейками, водой и аптечкой. Открыто круглосуточно во время тревоги; можно с животными в переносках.",
        },
        hours="24/7",
        capacity=(80, 300),
        open_during_alert=True,
        location={"shelter_type": "air_raid_shelter", "pets_allowed": True, **_FULL_SHELTER},
    ),
    ServiceTpl(
        "shelter-underpass",
        "basement",
        ("shelter", "shelter.air-raid", "heat-power.charging"),
        {"uk": "Укриття в підземному переході № {n}", "en": "Underpass shelter No. {n}"},
        {
            "uk": "Просторе укриття в підземному переході: освітлення від генератора, пункт зарядки та Wi-Fi.",
            "en": "Spacious shelter in a pedestrian underpass, lit by a generator, with charging and Wi-Fi.",
        },
        hours="24/7",
        capacity=(150, 500),
        open_during_alert=True,
        location={
            "shelter_type": "air_raid_shelter",
            "has_power": True,
            "has_internet": True,
            "wheelchair_accessible": False,
        },
    ),
    ServiceTpl(
        "warming",
        "warm",
        ("heat-power", "heat-power.warming", "heat-power.charging", "water.drinking"),
        {
            "uk": "Пункт незламності № {n}",
            "en": "Invincibility point No. {n}",
            "ru": "Пункт несокрушимости № {n}",
        },
        {
            "uk": "Тепло, світло від генератора, гарячий чай, питна вода, зарядка телефонів і Wi-Fi. Працює цілодобово під час відключень.",
            "en": "Heat, generator power, hot tea, drinking water, phone charging and Wi-Fi. Open round the clock during outages.",
            "ru": "Тепло, свет от генератора, горячий чай, питьевая вода, зарядка телефонов и Wi-Fi. Работает круглосуточно во время отключений.",
        },
        hours="24/7",
        capacity=(30, 120),
        location={"shelter_type": "warming_point", "wheelchair_accessible": True, **_WARM},
    ),
    ServiceTpl(
        "charging",
        "light",
        ("heat-power", "heat-power.charging"),
        {"uk": "Пункт зарядки в бібліотеці № {n}", "en": "Charging point at Library No. {n}"},
        {
            "uk": "Розетки та павербанки, Wi-Fi від супутникового термінала, теплий читальний зал.",
            "en": "Sockets and power banks, Wi-Fi via a satellite terminal, a warm reading room.",
        },
        hours="day",
        location={
            "shelter_type": "charging_point",
            "has_power": True,
            "has_internet": True,
            "has_heating": True,
        },
    ),
    ServiceTpl(
        "hot-meals",
        "kitchen",
        ("food", "food.hot-meals"),
        {
            "uk": "Гарячі обіди для переселенців",
            "en": "Hot lunches for displaced people",
            "ru": "Горячие обеды для переселенцев",
        },
        {
            "uk": "Щодня гарячий обід: суп, друга страва і чай. Без попереднього запису.",
            "en": "A hot lunch every day: soup, a main course and tea. No appointment needed.",
            "ru": "Каждый день горячий обед: суп, второе и чай. Без предварительной записи.",
        },
        hours="meals",
        audience="idp elderly any_nationality",
    ),
    ServiceTpl(
        "food-parcels",
        "kitchen",
        ("food", "food.parcels", "food.baby"),
        {"uk": "Видача продуктових наборів", "en": "Food parcel distribution"},
        {
            "uk": "Продуктовий набір раз на місяць на родину; для немовлят — суміші та підгузки.",
            "en": "One food parcel per family each month; formula and nappies for babies.",
        },
        hours="short",
        audience="idp families",
        documents=("passport", "idp"),
    ),
    ServiceTpl(
        "water",
        "water",
        ("water", "water.drinking"),
        {"uk": "Пункт питної води № {n}", "en": "Drinking water point No. {n}"},
        {
            "uk": "Очищена питна вода з бювета; беріть власну тару.",
            "en": "Purified drinking water from a pump room; bring your own containers.",
        },
        hours="day",
        location={"has_water": True},
    ),
    ServiceTpl(
        "pharmacy",
        "doctors",
        ("health", "health.pharmacy"),
        {"uk": "Соціальна аптека", "en": "Social pharmacy", "ru": "Социальная аптека"},
        {
            "uk": "Безкоштовні ліки від хронічних хвороб за рецептом лікаря.",
            "en": "Free medicines for chronic illnesses with a doctor's prescription.",
            "ru": "Бесплатные лекарства от хронических болезней по рецепту врача.",
        },
        documents=("prescription", "passport"),
        audience="idp elderly disabled",
        location={"wheelchair_accessible": True},
    ),
    ServiceTpl(
        "mobile-clinic",
        "doctors",
        ("health", "health.primary-care", "health.first-aid"),
        {"uk": "Мобільна медична бригада", "en": "Mobile medical team"},
        {
            "uk": "Лікар і медсестра приймають без запису, вимірюють тиск і видають ліки першої потреби.",
            "en": "A doctor and a nurse see people without appointment, check blood pressure and hand out essential medicines.",
        },
        hours="short",
        approximate=True,
    ),
    ServiceTpl(
        "psych",
        "mind",
        ("mental-health", "mental-health.counselling", "children-family"),
        {
            "uk": "Психологічна підтримка для дорослих і дітей",
            "en": "Psychological support for adults and children",
            "ru": "Психологическая поддержка для взрослых и детей",
        },
        {
            "uk": "Індивідуальні та групові зустрічі з психологом, арт-терапія для дітей. Конфіденційно.",
            "en": "Individual and group sessions with a psychologist, art therapy for children. Confidential.",
            "ru": "Индивидуальные и групповые встречи с психологом, арт-терапия для детей. Конфиденциально.",
        },
        languages=("uk", "ru", "en"),
        audience="any_nationality children families",
    ),
    ServiceTpl(
        "legal",
        "law",
        (
            "legal-documents",
            "legal-documents.idp-registration",
            "legal-documents.legal-aid",
            "legal-documents.civil-documents",
        ),
        {
            "uk": "Юридична консультація для ВПО",
            "en": "Legal advice for IDPs",
            "ru": "Юридическая консультация для ВПЛ",
        },
        {
            "uk": "Допомога з довідкою ВПО, відновленням документів і компенсацією за зруйноване житло.",
            "en": "Help with the IDP certificate, restoring documents and compensation for destroyed housing.",
            "ru": "Помощь со справкой ВПЛ, восстановлением документов и компенсацией за разрушенное жильё.",
        },
        documents=("passport",),
        audience="idp",
    ),
    ServiceTpl(
        "cash",
        "cash",
        ("cash-social", "cash-social.cash", "cash-social.benefits"),
        {"uk": "Реєстрація на грошову допомогу", "en": "Registration for cash assistance"},
        {
            "uk": "Реєстрація на багатоцільову грошову допомогу для вразливих родин. Візьміть документи на всіх членів родини.",
            "en": "Registration for multi-purpose cash assistance for vulnerable families. Bring documents for every family member.",
        },
        hours="short",
        documents=("passport", "tax", "idp"),
        audience="idp families elderly disabled",
    ),
    ServiceTpl(
        "evacuation",
        "evac",
        ("transport-evacuation", "transport-evacuation.evacuation", "health.disability"),
        {
            "uk": "Евакуація маломобільних людей",
            "en": "Evacuation for people with limited mobility",
        },
        {
            "uk": "Безкоштовна евакуація лежачих людей і людей з інвалідністю до безпечніших регіонів. Заявки телефоном цілодобово.",
            "en": "Free evacuation of bedridden people and people with disabilities to safer regions. Requests by phone day and night.",
        },
        hours="24/7",
        audience="elderly disabled",
        approximate=True,
    ),
    ServiceTpl(
        "mine",
        "mine",
        ("mine-safety", "mine-safety.risk-education", "mine-safety.report", "children-family"),
        {"uk": "Заняття з мінної безпеки", "en": "Mine safety sessions"},
        {
            "uk": "Як розпізнати небезпечні предмети і що робити, якщо ви їх знайшли. Окремі заняття для дітей.",
            "en": "How to recognise dangerous objects and what to do if you find one. Separate sessions for children.",
        },
        hours="evening",
        audience="any_nationality children",
    ),
    ServiceTpl(
        "child-space",
        "kids",
        ("children-family", "children-family.child-friendly-space", "work-education.school"),
        {"uk": "Дитячий простір № {n}", "en": "Child-friendly space No. {n}"},
        {
            "uk": "Ігри, заняття та допомога з уроками для дітей 4–14 років, поки батьки вирішують справи.",
            "en": "Games, activities and homework help for children aged 4–14 while parents run errands.",
        },
        hours="day",
        audience="children families",
        location={"has_heating": True, "has_toilets": True},
    ),
    ServiceTpl(
        "collective",
        "hub",
        ("shelter", "shelter.collective-centre", "food.hot-meals"),
        {
            "uk": "Місце компактного проживання в гуртожитку № {n}",
            "en": "Collective centre in Dormitory No. {n}",
            "ru": "Место компактного проживания в общежитии № {n}",
        },
        {
            "uk": "Ліжка для переселенців на тривалий термін, кухня, пральня та генератор.",
            "en": "Long-term beds for displaced people, a kitchen, laundry and a generator.",
            "ru": "Кровати для переселенцев на длительный срок, кухня, прачечная и генератор.",
        },
        hours="24/7",
        capacity=(40, 150),
        audience="idp families elderly",
        documents=("passport", "idp"),
        location={
            "shelter_type": "collective_centre",
            "has_heating": True,
            "has_water": True,
            "has_toilets": True,
            "has_power": True,
        },
    ),
    ServiceTpl(
        "clothing",
        "warm",
        ("cash-social", "cash-social.clothing", "food.baby"),
        {"uk": "Гуманітарний склад: одяг і речі", "en": "Aid store: clothes and household items"},
        {
            "uk": "Теплий одяг, взуття, ковдри та засоби гігієни для дорослих і дітей.",
            "en": "Warm clothes, shoes, blankets and hygiene items for adults and children.",
        },
        hours="short",
        audience="idp families",
    ),
    ServiceTpl(
        "vet",
        "paws",
        ("pets", "pets.veterinary", "pets.food-supplies"),
        {
            "uk": "Ветеринарна допомога для тварин переселенців",
            "en": "Veterinary care for displaced people's pets",
        },
        {
            "uk": "Безкоштовний огляд, щеплення і корм для котів і собак.",
            "en": "Free check-ups, vaccinations and food for cats and dogs.",
        },
        location={"pets_allowed": True},
    ),
    ServiceTpl(
        "showers",
        "water",
        ("water", "water.hygiene"),
        {"uk": "Душ і пральня для переселенців", "en": "Showers and laundry for displaced people"},
        {
            "uk": "Гарячий душ, пральні машини та гігієнічні набори. Рушники видаємо.",
            "en": "Hot showers, washing machines and hygiene kits. Towels provided.",
        },
        hours="day",
        location={"has_water": True, "has_toilets": True},
    ),
    ServiceTpl(
        "jobs",
        "work",
        ("work-education", "work-education.employment"),
        {"uk": "Консультації з працевлаштування", "en": "Job search advice"},
        {
            "uk": "Допомога зі складанням резюме, вакансії від місцевих роботодавців і перекваліфікація.",
            "en": "Help with CVs, vacancies from local employers and retraining.",
        },
        audience="idp veterans",
    ),
)

_H = ("en", "uk", "pl", "de", "ru")

#: Services in host countries (source: the city's locale; English and Ukrainian always).
HOST_TEMPLATES: tuple[ServiceTpl, ...] = (
    ServiceTpl(
        "reception",
        "host",
        ("shelter", "shelter.emergency-accommodation", "food.hot-meals", "children-family"),
        {
            "en": "Reception point with overnight beds No. {n}",
            "uk": "Пункт прийому з нічлігом № {n}",
            "pl": "Punkt recepcyjny z noclegiem nr {n}",
            "de": "Ankunftszentrum mit Übernachtung Nr. {n}",
            "ru": "Пункт приёма с ночлегом № {n}",
            "ar": "نقطة استقبال مع أسرّة للمبيت رقم {n}",
        },
        {
            "en": "Beds for the first nights after arrival, hot food, a children's corner and help with onward travel. Pets welcome.",
            "uk": "Ліжка на перші ночі після прибуття, гаряча їжа, дитячий куточок і допомога з подальшою дорогою. Можна з тваринами.",
            "pl": "Łóżka na pierwsze noce po przyjeździe, ciepłe jedzenie, kącik dla dzieci i pomoc w dalszej podróży. Można ze zwierzętami.",
            "de": "Betten für die ersten Nächte nach der Ankunft, warmes Essen, eine Kinderecke und Hilfe bei der Weiterreise. Haustiere willkommen.",
            "ru": "Кровати на первые ночи после прибытия, горячая еда, детский уголок и помощь с дальнейшей дорогой. Можно с животными.",
            "ar": "أسرّة لليالي الأولى بعد الوصول، وطعام ساخن، وركن للأطفال، ومساعدة في مواصلة الرحلة. يُسمح بالحيوانات الأليفة.",
        },
        hours="24/7",
        capacity=(30, 200),
        audience="refugees children families any_nationality",
        languages=("uk", "ru", "en"),
        location={
            "shelter_type": "emergency_accommodation",
            "pets_allowed": True,
            "has_heating": True,
            "has_water": True,
            "has_toilets": True,
            "has_power": True,
            "has_internet": True,
        },
    ),
    ServiceTpl(
        "meals",
        "host",
        ("food", "food.hot-meals"),
        {
            "en": "Free hot meals",
            "uk": "Безкоштовні гарячі обіди",
            "pl": "Bezpłatne ciepłe posiłki",
            "de": "Kostenloses warmes Essen",
            "ru": "Бесплатные горячие обеды",
        },
        {
            "en": "Lunch every day for anyone who needs it, including a vegetarian option.",
            "uk": "Щоденний обід для всіх, хто потребує; є вегетаріанська страва.",
            "pl": "Codziennie obiad dla każdego potrzebującego, także w wersji wegetariańskiej.",
            "de": "Täglich Mittagessen für alle, die es brauchen, auch vegetarisch.",
            "ru": "Ежедневный обед для всех, кому нужно; есть вегетарианское блюдо.",
        },
        hours="meals",
        audience="any_nationality",
    ),
    ServiceTpl(
        "protection",
        "host",
        ("legal-documents", "legal-documents.temporary-protection", "cash-social.benefits"),
        {
            "en": "Advice on temporary protection and residence",
            "uk": "Консультації щодо тимчасового захисту та перебування",
            "pl": "Porady w sprawie ochrony czasowej i pobytu",
            "de": "Beratung zu vorübergehendem Schutz und Aufenthalt",
            "ru": "Консультации по временной защите и пребыванию",
            "ar": "استشارات حول الحماية المؤقتة والإقامة",
        },
        {
            "en": "Help with registration, residence documents, benefits and appointments at the authorities.",
            "uk": "Допомога з реєстрацією, документами на перебування, виплатами та записом до установ.",
            "pl": "Pomoc przy rejestracji, dokumentach pobytowych, świadczeniach i wizytach w urzędach.",
            "de": "Hilfe bei der Anmeldung, bei Aufenthaltspapieren, Leistungen und Terminen bei Behörden.",
            "ru": "Помощь с регистрацией, документами на пребывание, выплатами и записью в учреждения.",
            "ar": "المساعدة في التسجيل ووثائق الإقامة والإعانات ومواعيد الدوائر الحكومية.",
        },
        documents=("passport", "protection"),
        audience="refugees any_nationality",
        languages=("uk", "ru", "en", "ar"),
    ),
    ServiceTpl(
        "language",
        "host",
        ("work-education", "work-education.language-courses"),
        {
            "en": "Free language course for adults",
            "uk": "Безкоштовний мовний курс для дорослих",
            "pl": "Bezpłatny kurs językowy dla dorosłych",
            "de": "Kostenloser Sprachkurs für Erwachsene",
            "ru": "Бесплатный языковой курс для взрослых",
        },
        {
            "en": "Evening classes in the local language for beginners, with childcare during lessons.",
            "uk": "Вечірні заняття з місцевої мови для початківців, з доглядом за дітьми під час уроків.",
            "pl": "Wieczorne zajęcia z języka lokalnego dla początkujących, z opieką nad dziećmi w czasie lekcji.",
            "de": "Abendkurse in der Landessprache für Anfänger, mit Kinderbetreuung während des Unterrichts.",
            "ru": "Вечерние занятия местным языком для начинающих, с присмотром за детьми во время уроков.",
        },
        hours="evening",
        audience="refugees",
    ),
    ServiceTpl(
        "counselling",
        "host",
        ("mental-health", "mental-health.counselling"),
        {
            "en": "Psychological counselling in Ukrainian and Russian",
            "uk": "Психологічне консультування українською та російською",
            "pl": "Konsultacje psychologiczne po ukraińsku i rosyjsku",
            "de": "Psychologische Beratung auf Ukrainisch und Russisch",
            "ru": "Психологическое консультирование на украинском и русском",
            "ar": "استشارات نفسية باللغتين الأوكرانية والروسية",
        },
        {
            "en": "Free sessions with psychologists who speak your language, in person or online.",
            "uk": "Безкоштовні зустрічі з психологами, які говорять вашою мовою, наживо чи онлайн.",
            "pl": "Bezpłatne spotkania z psychologami mówiącymi w Twoim języku, na miejscu lub online.",
            "de": "Kostenlose Gespräche mit Psychologinnen und Psychologen in Ihrer Sprache, vor Ort oder online.",
            "ru": "Бесплатные встречи с психологами, говорящими на вашем языке, лично или онлайн.",
            "ar": "جلسات مجانية مع أخصائيين نفسيين يتحدثون لغتك، حضوريًا أو عبر الإنترنت.",
        },
        audience="refugees any_nationality",
        languages=("uk", "ru"),
    ),
    ServiceTpl(
        "donations",
        "host",
        ("cash-social", "cash-social.clothing"),
        {
            "en": "Donation point: clothes and household items",
            "uk": "Пункт видачі одягу та речей",
            "pl": "Punkt wydawania odzieży i rzeczy",
            "de": "Kleiderkammer",
            "ru": "Пункт выдачи одежды и вещей",
        },
        {
            "en": "Clothes, shoes, bedding, toys and hygiene items, free of charge.",
            "uk": "Одяг, взуття, постільна білизна, іграшки та засоби гігієни безкоштовно.",
            "pl": "Odzież, buty, pościel, zabawki i środki higieniczne za darmo.",
            "de": "Kleidung, Schuhe, Bettwäsche, Spielzeug und Hygieneartikel, kostenlos.",
            "ru": "Одежда, обувь, постельное бельё, игрушки и средства гигиены бесплатно.",
        },
        hours="short",
        audience="refugees families",
    ),
    ServiceTpl(
        "medical",
        "host",
        ("health", "health.primary-care", "health.pharmacy"),
        {
            "en": "Medical consultations for refugees",
            "uk": "Медичні консультації для біженців",
            "pl": "Konsultacje lekarskie dla uchodźców",
            "de": "Medizinische Sprechstunde für Geflüchtete",
            "ru": "Медицинские консультации для беженцев",
        },
        {
            "en": "A general practitioner and a paediatrician see patients without insurance; prescriptions for chronic conditions.",
            "uk": "Терапевт і педіатр приймають пацієнтів без страховки; рецепти для хронічних хвороб.",
            "pl": "Lekarz rodzinny i pediatra przyjmują pacjentów bez ubezpieczenia; recepty na choroby przewlekłe.",
            "de": "Eine Allgemeinärztin und ein Kinderarzt behandeln auch ohne Versicherung; Rezepte bei chronischen Erkrankungen.",
            "ru": "Терапевт и педиатр принимают пациентов без страховки; рецепты при хронических заболеваниях.",
        },
        audience="refugees children",
        documents=("passport",),
        location={"wheelchair_accessible": True},
    ),
    ServiceTpl(
        "school",
        "host",
        ("work-education", "work-education.school", "children-family"),
        {
            "en": "School enrolment help",
            "uk": "Допомога із записом до школи",
            "pl": "Pomoc w zapisach do szkoły",
            "de": "Hilfe bei der Schulanmeldung",
            "ru": "Помощь с записью в школу",
        },
        {
            "en": "We help parents enrol children in school or kindergarten and find after-school clubs.",
            "uk": "Допомагаємо батькам записати дітей до школи чи садочка і знайти гуртки.",
            "pl": "Pomagamy rodzicom zapisać dzieci do szkoły lub przedszkola i znaleźć zajęcia pozalekcyjne.",
            "de": "Wir helfen Eltern, Kinder in Schule oder Kita anzumelden und Nachmittagsangebote zu finden.",
            "ru": "Помогаем родителям записать детей в школу или детский сад и найти кружки.",
        },
        audience="children families refugees",
    ),
    ServiceTpl(
        "pet-shelter",
        "host",
        ("shelter", "shelter.emergency-accommodation", "pets", "pets.veterinary"),
        {
            "en": "Pet-friendly shelter and vet help",
            "uk": "Прихисток із тваринами та ветеринарна допомога",
            "pl": "Schronienie ze zwierzętami i pomoc weterynaryjna",
            "de": "Unterkunft mit Haustieren und Tierarzthilfe",
            "ru": "Приют с животными и ветеринарная помощь",
        },
        {
            "en": "Rooms for families arriving with dogs and cats, pet food and a vet twice a week.",
            "uk": "Кімнати для родин, що прибули із собаками й котами, корм і ветеринар двічі на тиждень.",
            "pl": "Pokoje dla rodzin przybywających z psami i kotami, karma i weterynarz dwa razy w tygodniu.",
            "de": "Zimmer für Familien, die mit Hunden und Katzen ankommen, Tierfutter und zweimal pro Woche eine Tierärztin.",
            "ru": "Комнаты для семей, прибывших с собаками и кошками, корм и ветеринар дважды в неделю.",
        },
        hours="24/7",
        capacity=(10, 40),
        audience="refugees families children",
        location={
            "shelter_type": "emergency_accommodation",
            "pets_allowed": True,
            "has_heating": True,
            "has_water": True,
            "has_toilets": True,
        },
    ),
    ServiceTpl(
        "transfer",
        "host",
        ("transport-evacuation", "transport-evacuation.transport"),
        {
            "en": "Free onward transport from the station",
            "uk": "Безкоштовний трансфер від вокзалу",
            "pl": "Bezpłatny transport z dworca",
            "de": "Kostenlose Weiterfahrt vom Bahnhof",
            "ru": "Бесплатный трансфер от вокзала",
        },
        {
            "en": "Volunteer drivers take new arrivals from the station to their accommodation.",
            "uk": "Волонтери-водії відвозять новоприбулих від вокзалу до місця поселення.",
            "pl": "Wolontariusze-kierowcy zawożą nowo przybyłych z dworca do miejsca zakwaterowania.",
            "de": "Ehrenamtliche Fahrerinnen und Fahrer bringen Neuankömmlinge vom Bahnhof zur Unterkunft.",
            "ru": "Волонтёры-водители отвозят новоприбывших от вокзала до места размещения.",
        },
        hours="24/7",
        audience="refugees any_nationality",
        approximate=True,
    ),
)
assert all(set(_H) <= set(t.names) for t in HOST_TEMPLATES)

#: Fictional street names per country (no real organisation's address).
STREETS: dict[str, tuple[str, ...]] = {
    "UA": (
        "вул. Демонстраційна",
        "вул. Зразкова",
        "вул. Умовна",
        "вул. Прикладна",
        "просп. Вигаданий",
    ),
    "PL": ("ul. Przykładowa", "ul. Demonstracyjna", "ul. Fikcyjna"),
    "DE": ("Beispielstraße", "Musterweg", "Demoallee"),
    "MD": ("str. Exemplului", "str. Demonstrativă"),
    "RO": ("Strada Exemplului", "Strada Demonstrativă"),
    "CZ": ("Ukázková", "Vzorová"),
    "SK": ("Ukážková", "Vzorová"),
    "HU": ("Minta utca", "Példa utca"),
}

#: City-level settings: the locale listings there are written in, the phone prefix (a range
#: that is obviously fictional), how many of each template.
CITY_LOCALE = {
    "UA": "uk",
    "PL": "pl",
    "DE": "de",
    "MD": "ru",
    "RO": "en",
    "CZ": "en",
    "SK": "en",
    "HU": "en",
}
HOST_ORG = {
    "PL": "wspolny",
    "DE": "bruecke",
    "MD": "sosed",
    "RO": "crossroads",
    "CZ": "crossroads",
    "SK": "crossroads",
    "HU": "crossroads",
}
