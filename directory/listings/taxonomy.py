"""The built-in crisis taxonomy: categories readers browse by, labelled in every UI locale.

Stored as HSDS `taxonomy` + `taxonomy_term` rows (term.name/description in English, the other
locales in `translation`), with stable ids (uuid5 of the code) so every database agrees.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from directory.listings import models as m
from directory.listings.generation import bump

LOCALES: tuple[str, ...] = ("en", "uk", "ru", "pl", "de", "ar")
NAMESPACE = uuid.UUID("5b0f2c52-6f5e-4d0a-9a51-3c4b6f1d8e21")
TAXONOMY_NAME = "aid-directory crisis taxonomy"
TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:crisis")
TAXONOMY_VERSION = "1"


def services_with_term(session: Session, term_id: uuid.UUID) -> set[uuid.UUID]:
    """Services in this category (their search documents hold its labels)."""
    return set(
        session.scalars(
            select(m.Attribute.link_id).where(
                m.Attribute.link_entity == "service",
                m.Attribute.taxonomy_term_id == term_id,
                m.Attribute.archived_at.is_(None),
            )
        )
    )


def stable_id(kind: str, key: str) -> uuid.UUID:
    """The same UUID for the same record on every installation."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{key}")


def term_id(code: str) -> uuid.UUID:
    return stable_id("taxonomy_term", code)


@dataclass(frozen=True, slots=True)
class TermDef:
    code: str
    icon: str  # top level: the web's icon key (= the code); sub-categories: a specific glyph name
    position: int
    labels: Mapping[str, tuple[str, str]]  # locale → (name, one-line description)

    @property
    def parent_code(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None

    def name(self, locale: str) -> str:
        return self.labels[locale][0]

    def description(self, locale: str) -> str:
        return self.labels[locale][1]


def _t(code: str, icon: str, position: int, **labels: tuple[str, str]) -> TermDef:
    return TermDef(code, icon, position, labels)


CRISIS_TAXONOMY: tuple[TermDef, ...] = (
    # --- shelter ---------------------------------------------------------------------------
    _t(
        "shelter",
        "shelter",
        10,
        en=("Shelter", "Air-raid shelters, collective centres and places to sleep tonight."),
        uk=(
            "Укриття та житло",
            "Укриття на час тривоги, місця компактного проживання та нічліг на сьогодні.",
        ),
        ru=(
            "Укрытие и жильё",
            "Укрытия на время тревоги, места компактного проживания и ночлег на сегодня.",
        ),
        pl=(
            "Schronienie i nocleg",
            "Schrony na czas alarmu, ośrodki zbiorowego zakwaterowania i nocleg na dziś.",
        ),
        de=(
            "Schutz & Unterkunft",
            "Schutzräume bei Luftalarm, Sammelunterkünfte und Schlafplätze für heute Nacht.",
        ),
        ar=(
            "المأوى والسكن",
            "ملاجئ أثناء الغارات الجوية، ومراكز إيواء جماعية، وأماكن للمبيت الليلة.",
        ),
    ),
    _t(
        "shelter.air-raid",
        "bunker",
        11,
        en=(
            "Air-raid shelters",
            "Bomb shelters, basements and metro stations to go to during an alert.",
        ),
        uk=("Укриття", "Сховища, підвали та станції метро, куди йти під час повітряної тривоги."),
        ru=(
            "Бомбоубежища",
            "Убежища, подвалы и станции метро, куда идти во время воздушной тревоги.",
        ),
        pl=(
            "Schrony przeciwlotnicze",
            "Schrony, piwnice i stacje metra, do których można zejść podczas alarmu.",
        ),
        de=(
            "Luftschutzräume",
            "Schutzräume, Keller und U-Bahn-Stationen für die Dauer eines Luftalarms.",
        ),
        ar=("ملاجئ الغارات الجوية", "ملاجئ وأقبية ومحطات مترو يمكن اللجوء إليها أثناء الإنذار."),
    ),
    _t(
        "shelter.collective-centre",
        "building",
        12,
        en=("Collective centres", "Longer-term group accommodation for displaced people."),
        uk=(
            "Місця компактного проживання",
            "Колективне житло для внутрішньо переміщених осіб на тривалий час.",
        ),
        ru=(
            "Места компактного проживания",
            "Коллективное жильё для вынужденных переселенцев на длительный срок.",
        ),
        pl=(
            "Ośrodki zbiorowego zakwaterowania",
            "Dłuższe zakwaterowanie grupowe dla osób przesiedlonych.",
        ),
        de=("Sammelunterkünfte", "Gemeinschaftsunterkünfte für Vertriebene über längere Zeit."),
        ar=("مراكز الإيواء الجماعية", "سكن جماعي طويل الأمد للنازحين."),
    ),
    _t(
        "shelter.emergency-accommodation",
        "bed",
        13,
        en=(
            "Emergency accommodation",
            "A bed for tonight or a few nights, on arrival or after losing your home.",
        ),
        uk=(
            "Екстрене поселення",
            "Ліжко на ніч або кілька ночей — після прибуття чи втрати житла.",
        ),
        ru=(
            "Экстренное размещение",
            "Койка на ночь или несколько ночей — по прибытии или после потери жилья.",
        ),
        pl=(
            "Nocleg awaryjny",
            "Łóżko na dziś lub kilka nocy — po przyjeździe lub po utracie domu.",
        ),
        de=(
            "Notunterkunft",
            "Ein Bett für heute Nacht oder einige Nächte – nach der Ankunft oder dem Verlust der Wohnung.",
        ),
        ar=("إيواء طارئ", "سرير لهذه الليلة أو لبضع ليالٍ، عند الوصول أو بعد فقدان المنزل."),
    ),
    _t(
        "shelter.housing",
        "key",
        14,
        en=("Housing support", "Help finding a flat, rent support and host families."),
        uk=(
            "Допомога з житлом",
            "Допомога в пошуку квартири, компенсація оренди та приймаючі родини.",
        ),
        ru=("Помощь с жильём", "Помощь в поиске квартиры, компенсация аренды и принимающие семьи."),
        pl=(
            "Pomoc mieszkaniowa",
            "Pomoc w znalezieniu mieszkania, dopłaty do czynszu i rodziny goszczące.",
        ),
        de=("Wohnungshilfe", "Hilfe bei der Wohnungssuche, Mietzuschüsse und Gastfamilien."),
        ar=("المساعدة في السكن", "المساعدة في إيجاد شقة، ودعم الإيجار، والعائلات المضيفة."),
    ),
    # --- heat & power ----------------------------------------------------------------------
    _t(
        "heat-power",
        "heat-power",
        20,
        en=(
            "Heat & power",
            "Warming and charging points, generators and places with electricity during outages.",
        ),
        uk=(
            "Тепло і світло",
            "Пункти обігріву та зарядки, генератори й місця з електрикою під час відключень.",
        ),
        ru=(
            "Тепло и свет",
            "Пункты обогрева и зарядки, генераторы и места с электричеством во время отключений.",
        ),
        pl=(
            "Ciepło i prąd",
            "Punkty ogrzewania i ładowania, generatory i miejsca z prądem podczas przerw w dostawie.",
        ),
        de=(
            "Wärme & Strom",
            "Wärme- und Ladestellen, Generatoren und Orte mit Strom bei Stromausfällen.",
        ),
        ar=(
            "التدفئة والكهرباء",
            "نقاط التدفئة والشحن، ومولدات كهربائية، وأماكن فيها كهرباء أثناء الانقطاع.",
        ),
    ),
    _t(
        "heat-power.warming",
        "thermometer",
        21,
        en=(
            "Warming points",
            "Warm rooms with hot drinks where you can sit out a power or heating cut.",
        ),
        uk=(
            "Пункти обігріву",
            "Теплі приміщення з гарячими напоями, де можна перебути відключення світла чи тепла, зокрема «Пункти незламності».",
        ),
        ru=(
            "Пункты обогрева",
            "Тёплые помещения с горячими напитками, где можно переждать отключение света или отопления, в том числе «Пункты несокрушимости».",
        ),
        pl=(
            "Punkty ogrzewania",
            "Ciepłe pomieszczenia z gorącymi napojami, w których można przeczekać brak prądu lub ogrzewania.",
        ),
        de=(
            "Wärmestuben",
            "Warme Räume mit heißen Getränken, in denen man einen Strom- oder Heizungsausfall überbrücken kann.",
        ),
        ar=(
            "نقاط التدفئة",
            "أماكن دافئة مع مشروبات ساخنة للبقاء فيها أثناء انقطاع الكهرباء أو التدفئة.",
        ),
    ),
    _t(
        "heat-power.charging",
        "plug",
        22,
        en=("Charging points", "Charge your phone and power bank, get Wi-Fi and a mobile signal."),
        uk=(
            "Пункти зарядки",
            "Зарядка телефонів і павербанків, доступ до Wi-Fi та мобільного зв’язку.",
        ),
        ru=("Пункты зарядки", "Зарядка телефонов и павербанков, доступ к Wi-Fi и мобильной связи."),
        pl=(
            "Punkty ładowania",
            "Naładuj telefon i powerbank, skorzystaj z Wi-Fi i zasięgu sieci komórkowej.",
        ),
        de=("Ladestationen", "Handy und Powerbank laden, WLAN und Mobilfunkempfang nutzen."),
        ar=(
            "نقاط الشحن",
            "اشحن هاتفك وبطارية الشحن المتنقلة، واستخدم شبكة الواي فاي والاتصال الخلوي.",
        ),
    ),
    _t(
        "heat-power.fuel",
        "flame-kindling",
        23,
        en=(
            "Heating fuel & heaters",
            "Firewood, fuel briquettes, heaters and blankets for cold homes.",
        ),
        uk=(
            "Паливо та обігрівачі",
            "Дрова, паливні брикети, обігрівачі та ковдри для холодних домівок.",
        ),
        ru=(
            "Топливо и обогреватели",
            "Дрова, топливные брикеты, обогреватели и одеяла для холодных домов.",
        ),
        pl=("Opał i grzejniki", "Drewno opałowe, brykiety, grzejniki i koce do zimnych domów."),
        de=(
            "Brennstoff & Heizgeräte",
            "Brennholz, Briketts, Heizgeräte und Decken für kalte Wohnungen.",
        ),
        ar=("الوقود ووسائل التدفئة", "حطب وقوالب وقود ومدافئ وبطانيات للمنازل الباردة."),
    ),
    # --- food ------------------------------------------------------------------------------
    _t(
        "food",
        "food",
        30,
        en=("Food", "Hot meals, food parcels and baby food."),
        uk=("Їжа", "Гаряче харчування, продуктові набори та дитяче харчування."),
        ru=("Еда", "Горячее питание, продуктовые наборы и детское питание."),
        pl=("Żywność", "Ciepłe posiłki, paczki żywnościowe i żywność dla niemowląt."),
        de=("Essen", "Warme Mahlzeiten, Lebensmittelpakete und Babynahrung."),
        ar=("الطعام", "وجبات ساخنة وطرود غذائية وأغذية للأطفال الرضّع."),
    ),
    _t(
        "food.hot-meals",
        "soup",
        31,
        en=("Hot meals", "Free hot meals and soup kitchens."),
        uk=("Гаряче харчування", "Безкоштовні гарячі обіди та пункти харчування."),
        ru=("Горячее питание", "Бесплатные горячие обеды и пункты питания."),
        pl=("Ciepłe posiłki", "Bezpłatne ciepłe posiłki i jadłodajnie."),
        de=("Warme Mahlzeiten", "Kostenlose warme Mahlzeiten und Suppenküchen."),
        ar=("وجبات ساخنة", "وجبات ساخنة مجانية ومطابخ خيرية."),
    ),
    _t(
        "food.parcels",
        "package",
        32,
        en=("Food parcels", "Grocery sets to take home, one-off or regular."),
        uk=("Продуктові набори", "Набори продуктів додому — разово чи регулярно."),
        ru=("Продуктовые наборы", "Наборы продуктов на дом — разово или регулярно."),
        pl=("Paczki żywnościowe", "Paczki z produktami do domu — jednorazowo lub regularnie."),
        de=("Lebensmittelpakete", "Lebensmittel zum Mitnehmen, einmalig oder regelmäßig."),
        ar=("طرود غذائية", "سلال غذائية تأخذها إلى المنزل، لمرة واحدة أو بشكل منتظم."),
    ),
    _t(
        "food.baby",
        "baby-bottle",
        33,
        en=("Baby food", "Infant formula, baby food and nappies."),
        uk=("Дитяче харчування", "Дитячі суміші, пюре та підгузки."),
        ru=("Детское питание", "Детские смеси, пюре и подгузники."),
        pl=("Żywność dla niemowląt", "Mleko modyfikowane, jedzenie dla niemowląt i pieluchy."),
        de=("Babynahrung", "Säuglingsmilch, Babynahrung und Windeln."),
        ar=("أغذية الأطفال", "حليب الرضّع وأغذية الأطفال والحفاضات."),
    ),
    # --- water -----------------------------------------------------------------------------
    _t(
        "water",
        "water",
        40,
        en=("Water", "Drinking water points, showers and laundry."),
        uk=("Вода", "Пункти питної води, душ і пральня."),
        ru=("Вода", "Пункты питьевой воды, душ и прачечная."),
        pl=("Woda", "Punkty wody pitnej, prysznice i pralnie."),
        de=("Wasser", "Trinkwasserstellen, Duschen und Waschmöglichkeiten."),
        ar=("المياه", "نقاط مياه الشرب، والاستحمام، وغسل الملابس."),
    ),
    _t(
        "water.drinking",
        "glass-water",
        41,
        en=("Drinking water", "Places to fill bottles with safe drinking water."),
        uk=("Питна вода", "Місця, де можна набрати безпечної питної води."),
        ru=("Питьевая вода", "Места, где можно набрать безопасной питьевой воды."),
        pl=("Woda pitna", "Miejsca, w których można nabrać bezpiecznej wody pitnej."),
        de=("Trinkwasser", "Orte, an denen man sauberes Trinkwasser abfüllen kann."),
        ar=("مياه الشرب", "أماكن لتعبئة مياه شرب آمنة."),
    ),
    _t(
        "water.hygiene",
        "shower-head",
        42,
        en=("Showers & laundry", "Hot showers, washing machines and hygiene kits."),
        uk=("Душ і пральня", "Гарячий душ, пральні машини та гігієнічні набори."),
        ru=("Душ и прачечная", "Горячий душ, стиральные машины и гигиенические наборы."),
        pl=("Prysznice i pranie", "Ciepły prysznic, pralki i zestawy higieniczne."),
        de=("Duschen & Wäsche", "Warme Duschen, Waschmaschinen und Hygienesets."),
        ar=("الاستحمام وغسل الملابس", "حمّامات بمياه ساخنة، وغسالات، وحقائب نظافة شخصية."),
    ),
    # --- health ----------------------------------------------------------------------------
    _t(
        "health",
        "health",
        50,
        en=("Health", "Medical care, pharmacies and medicines."),
        uk=("Здоров’я", "Медична допомога, аптеки та ліки."),
        ru=("Здоровье", "Медицинская помощь, аптеки и лекарства."),
        pl=("Zdrowie", "Opieka medyczna, apteki i leki."),
        de=("Gesundheit", "Medizinische Versorgung, Apotheken und Medikamente."),
        ar=("الصحة", "الرعاية الطبية والصيدليات والأدوية."),
    ),
    _t(
        "health.pharmacy",
        "pill",
        51,
        en=("Pharmacies & medicines", "Pharmacies open now and free medicines."),
        uk=("Аптеки та ліки", "Аптеки, що працюють зараз, і безкоштовні ліки."),
        ru=("Аптеки и лекарства", "Аптеки, работающие сейчас, и бесплатные лекарства."),
        pl=("Apteki i leki", "Apteki czynne teraz i bezpłatne leki."),
        de=("Apotheken & Medikamente", "Geöffnete Apotheken und kostenlose Medikamente."),
        ar=("الصيدليات والأدوية", "صيدليات مفتوحة الآن وأدوية مجانية."),
    ),
    _t(
        "health.primary-care",
        "stethoscope",
        52,
        en=("Doctors & clinics", "General practitioners, clinics and mobile medical teams."),
        uk=("Лікарі та амбулаторії", "Сімейні лікарі, амбулаторії та мобільні медичні бригади."),
        ru=("Врачи и амбулатории", "Семейные врачи, амбулатории и мобильные медицинские бригады."),
        pl=("Lekarze i przychodnie", "Lekarze rodzinni, przychodnie i mobilne zespoły medyczne."),
        de=("Ärzte & Praxen", "Hausärzte, Ambulanzen und mobile medizinische Teams."),
        ar=("الأطباء والعيادات", "أطباء عامّون وعيادات وفرق طبية متنقلة."),
    ),
    _t(
        "health.first-aid",
        "cross",
        53,
        en=("First aid", "First aid points and care for injuries."),
        uk=("Перша допомога", "Пункти першої допомоги та допомога при травмах."),
        ru=("Первая помощь", "Пункты первой помощи и помощь при травмах."),
        pl=("Pierwsza pomoc", "Punkty pierwszej pomocy i pomoc przy urazach."),
        de=("Erste Hilfe", "Erste-Hilfe-Stellen und Versorgung von Verletzungen."),
        ar=("الإسعافات الأولية", "نقاط إسعافات أولية ورعاية الإصابات."),
    ),
    _t(
        "health.disability",
        "accessibility",
        54,
        en=(
            "Disability & rehabilitation",
            "Rehabilitation, assistive devices and care for people with disabilities.",
        ),
        uk=(
            "Інвалідність і реабілітація",
            "Реабілітація, допоміжні засоби та догляд за людьми з інвалідністю.",
        ),
        ru=(
            "Инвалидность и реабилитация",
            "Реабилитация, вспомогательные средства и уход за людьми с инвалидностью.",
        ),
        pl=(
            "Niepełnosprawność i rehabilitacja",
            "Rehabilitacja, sprzęt pomocniczy i opieka nad osobami z niepełnosprawnościami.",
        ),
        de=(
            "Behinderung & Reha",
            "Rehabilitation, Hilfsmittel und Pflege für Menschen mit Behinderung.",
        ),
        ar=(
            "الإعاقة وإعادة التأهيل",
            "إعادة التأهيل والأجهزة المساعدة ورعاية الأشخاص ذوي الإعاقة.",
        ),
    ),
    # --- mental health ---------------------------------------------------------------------
    _t(
        "mental-health",
        "mental-health",
        60,
        en=("Mental health", "Psychological support, counselling and crisis lines."),
        uk=("Психологічна підтримка", "Психологічна допомога, консультації та кризові лінії."),
        ru=("Психологическая поддержка", "Психологическая помощь, консультации и кризисные линии."),
        pl=("Zdrowie psychiczne", "Wsparcie psychologiczne, konsultacje i telefony kryzysowe."),
        de=("Psychische Gesundheit", "Psychologische Unterstützung, Beratung und Krisentelefone."),
        ar=("الصحة النفسية", "دعم نفسي واستشارات وخطوط مساعدة للأزمات."),
    ),
    _t(
        "mental-health.counselling",
        "messages",
        61,
        en=("Counselling", "Talk to a psychologist in person or online, alone or in a group."),
        uk=(
            "Консультації психолога",
            "Розмова з психологом наживо чи онлайн, індивідуально або в групі.",
        ),
        ru=(
            "Консультации психолога",
            "Разговор с психологом лично или онлайн, индивидуально или в группе.",
        ),
        pl=(
            "Konsultacje psychologiczne",
            "Rozmowa z psychologiem na miejscu lub online, indywidualnie lub w grupie.",
        ),
        de=(
            "Psychologische Beratung",
            "Gespräche mit Fachleuten für Psychologie, vor Ort oder online, einzeln oder in der Gruppe.",
        ),
        ar=(
            "الاستشارة النفسية",
            "تحدّث مع أخصائي نفسي حضوريًا أو عبر الإنترنت، بشكل فردي أو ضمن مجموعة.",
        ),
    ),
    _t(
        "mental-health.crisis-line",
        "phone",
        62,
        en=("Crisis lines", "Phone lines where someone listens, day and night."),
        uk=("Кризові лінії", "Телефонні лінії, де вас вислухають удень і вночі."),
        ru=("Кризисные линии", "Телефонные линии, где вас выслушают днём и ночью."),
        pl=("Telefony zaufania", "Linie telefoniczne, gdzie ktoś wysłucha — w dzień i w nocy."),
        de=("Krisentelefone", "Telefonnummern, unter denen Ihnen Tag und Nacht jemand zuhört."),
        ar=("خطوط المساعدة في الأزمات", "خطوط هاتفية يستمع إليك فيها أحدهم ليلًا ونهارًا."),
    ),
    # --- legal aid & documents -------------------------------------------------------------
    _t(
        "legal-documents",
        "legal-documents",
        70,
        en=(
            "Legal aid & documents",
            "Free legal advice, IDP registration, temporary protection and lost documents.",
        ),
        uk=(
            "Правова допомога і документи",
            "Безоплатні юридичні консультації, довідка ВПО, тимчасовий захист і відновлення документів.",
        ),
        ru=(
            "Юридическая помощь и документы",
            "Бесплатные юридические консультации, справка ВПЛ, временная защита и восстановление документов.",
        ),
        pl=(
            "Pomoc prawna i dokumenty",
            "Bezpłatne porady prawne, rejestracja osób przesiedlonych, ochrona czasowa i utracone dokumenty.",
        ),
        de=(
            "Rechtshilfe & Dokumente",
            "Kostenlose Rechtsberatung, Registrierung als Binnenvertriebene, vorübergehender Schutz und verlorene Dokumente.",
        ),
        ar=(
            "المساعدة القانونية والوثائق",
            "استشارات قانونية مجانية، وتسجيل النازحين داخليًا، والحماية المؤقتة، واستخراج الوثائق المفقودة.",
        ),
    ),
    _t(
        "legal-documents.idp-registration",
        "id-card",
        71,
        en=(
            "IDP registration",
            "Register as an internally displaced person and get the IDP certificate.",
        ),
        uk=(
            "Реєстрація ВПО",
            "Взяття на облік як внутрішньо переміщена особа та отримання довідки ВПО.",
        ),
        ru=(
            "Регистрация ВПЛ",
            "Постановка на учёт как внутренне перемещённое лицо и получение справки ВПЛ.",
        ),
        pl=(
            "Rejestracja osób przesiedlonych",
            "Rejestracja jako osoba wewnętrznie przesiedlona (IDP) i wydanie zaświadczenia.",
        ),
        de=(
            "Registrierung als Binnenvertriebene",
            "Registrierung als binnenvertriebene Person (IDP) und Ausstellung der Bescheinigung.",
        ),
        ar=("تسجيل النازحين داخليًا", "التسجيل كنازح داخلي والحصول على شهادة النزوح."),
    ),
    _t(
        "legal-documents.legal-aid",
        "gavel",
        72,
        en=(
            "Free legal advice",
            "Lawyers who help with property, benefits, family and residence questions.",
        ),
        uk=(
            "Безоплатна правова допомога",
            "Юристи допоможуть із питаннями майна, виплат, сім’ї та проживання.",
        ),
        ru=(
            "Бесплатная юридическая помощь",
            "Юристы помогут с вопросами имущества, выплат, семьи и проживания.",
        ),
        pl=(
            "Bezpłatna pomoc prawna",
            "Prawnicy pomogą w sprawach mieszkania, świadczeń, rodziny i pobytu.",
        ),
        de=(
            "Kostenlose Rechtsberatung",
            "Juristinnen und Juristen helfen bei Fragen zu Eigentum, Leistungen, Familie und Aufenthalt.",
        ),
        ar=(
            "استشارات قانونية مجانية",
            "محامون يساعدون في قضايا الممتلكات والإعانات والأسرة والإقامة.",
        ),
    ),
    _t(
        "legal-documents.temporary-protection",
        "stamp",
        73,
        en=(
            "Temporary protection & residence",
            "Temporary protection status, residence permits and registration in the host country.",
        ),
        uk=(
            "Тимчасовий захист і перебування",
            "Статус тимчасового захисту, дозволи на проживання та реєстрація в країні перебування.",
        ),
        ru=(
            "Временная защита и пребывание",
            "Статус временной защиты, вид на жительство и регистрация в стране пребывания.",
        ),
        pl=(
            "Ochrona czasowa i pobyt",
            "Status ochrony czasowej, numer PESEL i zezwolenia na pobyt.",
        ),
        de=(
            "Vorübergehender Schutz & Aufenthalt",
            "Status des vorübergehenden Schutzes, Aufenthaltstitel und Anmeldung.",
        ),
        ar=(
            "الحماية المؤقتة والإقامة",
            "وضع الحماية المؤقتة وتصاريح الإقامة والتسجيل في بلد الاستقبال.",
        ),
    ),
    _t(
        "legal-documents.civil-documents",
        "file-text",
        74,
        en=(
            "Passports & civil documents",
            "Restore lost passports, birth certificates and other documents.",
        ),
        uk=(
            "Паспорти та документи",
            "Відновлення втрачених паспортів, свідоцтв про народження та інших документів.",
        ),
        ru=(
            "Паспорта и документы",
            "Восстановление утерянных паспортов, свидетельств о рождении и других документов.",
        ),
        pl=(
            "Paszporty i dokumenty",
            "Odtworzenie utraconych paszportów, aktów urodzenia i innych dokumentów.",
        ),
        de=(
            "Pässe & Urkunden",
            "Verlorene Pässe, Geburtsurkunden und andere Dokumente neu ausstellen lassen.",
        ),
        ar=(
            "جوازات السفر والوثائق المدنية",
            "استخراج بدل عن جوازات السفر وشهادات الميلاد والوثائق المفقودة الأخرى.",
        ),
    ),
    # --- consular --------------------------------------------------------------------------
    _t(
        "consular",
        "consular",
        80,
        en=(
            "Consular services",
            "Consulates and consular sections helping foreign citizens: passports, evacuation, registration.",
        ),
        uk=(
            "Консульські послуги",
            "Консульства та консульські відділи, що допомагають іноземцям: паспорти, евакуація, облік.",
        ),
        ru=(
            "Консульские услуги",
            "Консульства и консульские отделы, помогающие иностранцам: паспорта, эвакуация, учёт.",
        ),
        pl=(
            "Usługi konsularne",
            "Konsulaty i wydziały konsularne pomagające cudzoziemcom: paszporty, ewakuacja, rejestracja.",
        ),
        de=(
            "Konsularische Dienste",
            "Konsulate und Konsularabteilungen für ausländische Staatsangehörige: Pässe, Evakuierung, Registrierung.",
        ),
        ar=(
            "الخدمات القنصلية",
            "القنصليات والأقسام القنصلية التي تساعد المواطنين الأجانب: جوازات السفر والإجلاء والتسجيل.",
        ),
    ),
    _t(
        "consular.documents",
        "passport",
        81,
        en=(
            "Passports & travel documents",
            "Emergency passports, travel documents and certificates from your country's consulate.",
        ),
        uk=(
            "Паспорти та проїзні документи",
            "Тимчасові паспорти, проїзні документи та довідки від консульства вашої країни.",
        ),
        ru=(
            "Паспорта и проездные документы",
            "Временные паспорта, проездные документы и справки от консульства вашей страны.",
        ),
        pl=(
            "Paszporty i dokumenty podróży",
            "Paszporty tymczasowe, dokumenty podróży i zaświadczenia z konsulatu Twojego kraju.",
        ),
        de=(
            "Pässe & Reisedokumente",
            "Notpässe, Reisedokumente und Bescheinigungen vom Konsulat Ihres Landes.",
        ),
        ar=("جوازات السفر ووثائق السفر", "جوازات سفر طارئة ووثائق سفر وشهادات من قنصلية بلدك."),
    ),
    _t(
        "consular.citizen-assistance",
        "hand-helping",
        82,
        en=(
            "Help for citizens abroad",
            "Evacuation lists, consular registration and help for foreign students and workers.",
        ),
        uk=(
            "Допомога громадянам за кордоном",
            "Списки на евакуацію, консульський облік і допомога іноземним студентам та працівникам.",
        ),
        ru=(
            "Помощь гражданам за рубежом",
            "Списки на эвакуацию, консульский учёт и помощь иностранным студентам и работникам.",
        ),
        pl=(
            "Pomoc dla obywateli za granicą",
            "Listy ewakuacyjne, rejestracja konsularna i pomoc dla zagranicznych studentów i pracowników.",
        ),
        de=(
            "Hilfe für Staatsangehörige im Ausland",
            "Evakuierungslisten, Registrierung und Hilfe für ausländische Studierende und Arbeitskräfte.",
        ),
        ar=(
            "مساعدة المواطنين في الخارج",
            "قوائم الإجلاء والتسجيل القنصلي ومساعدة الطلاب والعمال الأجانب.",
        ),
    ),
    # --- cash & social aid -----------------------------------------------------------------
    _t(
        "cash-social",
        "cash-social",
        90,
        en=("Cash & social aid", "Cash assistance, social benefits, clothes and household items."),
        uk=(
            "Грошова та соціальна допомога",
            "Грошова допомога, соціальні виплати, одяг і речі для дому.",
        ),
        ru=(
            "Денежная и социальная помощь",
            "Денежная помощь, социальные выплаты, одежда и вещи для дома.",
        ),
        pl=(
            "Pomoc finansowa i socjalna",
            "Pomoc pieniężna, świadczenia socjalne, odzież i artykuły domowe.",
        ),
        de=("Geld- & Sozialhilfe", "Bargeldhilfe, Sozialleistungen, Kleidung und Haushaltswaren."),
        ar=(
            "المساعدات النقدية والاجتماعية",
            "مساعدات نقدية وإعانات اجتماعية وملابس ومستلزمات منزلية.",
        ),
    ),
    _t(
        "cash-social.cash",
        "banknote",
        91,
        en=("Cash assistance", "One-off or monthly cash payments from humanitarian organisations."),
        uk=("Грошова допомога", "Разові або щомісячні виплати від гуманітарних організацій."),
        ru=("Денежная помощь", "Разовые или ежемесячные выплаты от гуманитарных организаций."),
        pl=(
            "Pomoc pieniężna",
            "Jednorazowe lub comiesięczne wypłaty od organizacji humanitarnych.",
        ),
        de=("Bargeldhilfe", "Einmalige oder monatliche Geldleistungen humanitärer Organisationen."),
        ar=("مساعدات نقدية", "دفعات نقدية لمرة واحدة أو شهرية من المنظمات الإنسانية."),
    ),
    _t(
        "cash-social.benefits",
        "clipboard",
        92,
        en=("Social benefits", "Help applying for state benefits, pensions and allowances."),
        uk=("Соціальні виплати", "Допомога в оформленні державних виплат, пенсій і допомог."),
        ru=("Социальные выплаты", "Помощь в оформлении государственных выплат, пенсий и пособий."),
        pl=(
            "Świadczenia socjalne",
            "Pomoc w ubieganiu się o świadczenia państwowe, emerytury i zasiłki.",
        ),
        de=(
            "Sozialleistungen",
            "Hilfe beim Beantragen staatlicher Leistungen, Renten und Zuschüsse.",
        ),
        ar=("الإعانات الاجتماعية", "المساعدة في التقدّم للإعانات الحكومية والمعاشات والمخصصات."),
    ),
    _t(
        "cash-social.clothing",
        "shirt",
        93,
        en=("Clothes & household items", "Warm clothes, shoes, bedding and hygiene items."),
        uk=("Одяг і речі", "Теплий одяг, взуття, постільна білизна та засоби гігієни."),
        ru=("Одежда и вещи", "Тёплая одежда, обувь, постельное бельё и средства гигиены."),
        pl=("Odzież i rzeczy", "Ciepła odzież, buty, pościel i środki higieniczne."),
        de=("Kleidung & Sachspenden", "Warme Kleidung, Schuhe, Bettwäsche und Hygieneartikel."),
        ar=("الملابس والمستلزمات", "ملابس دافئة وأحذية وأغطية أسرّة ومستلزمات نظافة."),
    ),
    # --- transport & evacuation ------------------------------------------------------------
    _t(
        "transport-evacuation",
        "transport-evacuation",
        100,
        en=(
            "Transport & evacuation",
            "Evacuation from dangerous areas, free transport and help at the border.",
        ),
        uk=(
            "Транспорт і евакуація",
            "Евакуація з небезпечних районів, безкоштовний транспорт і допомога на кордоні.",
        ),
        ru=(
            "Транспорт и эвакуация",
            "Эвакуация из опасных районов, бесплатный транспорт и помощь на границе.",
        ),
        pl=(
            "Transport i ewakuacja",
            "Ewakuacja z niebezpiecznych terenów, bezpłatny transport i pomoc na granicy.",
        ),
        de=(
            "Transport & Evakuierung",
            "Evakuierung aus gefährdeten Gebieten, kostenlose Fahrten und Hilfe an der Grenze.",
        ),
        ar=("النقل والإجلاء", "الإجلاء من المناطق الخطرة، ونقل مجاني، ومساعدة على الحدود."),
    ),
    _t(
        "transport-evacuation.evacuation",
        "route",
        101,
        en=("Evacuation", "Organised evacuation, including for people with limited mobility."),
        uk=("Евакуація", "Організована евакуація, зокрема людей з обмеженою мобільністю."),
        ru=(
            "Эвакуация",
            "Организованная эвакуация, в том числе людей с ограниченной мобильностью.",
        ),
        pl=("Ewakuacja", "Zorganizowana ewakuacja, także osób z ograniczoną mobilnością."),
        de=(
            "Evakuierung",
            "Organisierte Evakuierung, auch für Menschen mit eingeschränkter Mobilität.",
        ),
        ar=("الإجلاء", "إجلاء منظّم، بما في ذلك للأشخاص ذوي الحركة المحدودة."),
    ),
    _t(
        "transport-evacuation.transport",
        "train",
        102,
        en=("Free transport", "Free buses, trains and rides onward to safer places."),
        uk=(
            "Безкоштовний транспорт",
            "Безкоштовні автобуси, потяги та поїздки до безпечніших місць.",
        ),
        ru=(
            "Бесплатный транспорт",
            "Бесплатные автобусы, поезда и поездки в более безопасные места.",
        ),
        pl=(
            "Bezpłatny transport",
            "Bezpłatne autobusy, pociągi i przejazdy w bezpieczniejsze miejsca.",
        ),
        de=("Kostenlose Fahrten", "Kostenlose Busse, Züge und Mitfahrten an sicherere Orte."),
        ar=("نقل مجاني", "حافلات وقطارات ورحلات مجانية إلى أماكن أكثر أمانًا."),
    ),
    # --- mine safety -----------------------------------------------------------------------
    _t(
        "mine-safety",
        "mine-safety",
        110,
        en=(
            "Mine & explosive safety",
            "How to recognise and report mines and unexploded ordnance.",
        ),
        uk=(
            "Мінна безпека",
            "Як розпізнати міни й вибухонебезпечні предмети та куди про них повідомити.",
        ),
        ru=(
            "Минная безопасность",
            "Как распознать мины и взрывоопасные предметы и куда о них сообщить.",
        ),
        pl=("Bezpieczeństwo minowe", "Jak rozpoznać miny i niewybuchy oraz gdzie je zgłosić."),
        de=("Minen & Kampfmittel", "Wie man Minen und Blindgänger erkennt und wo man sie meldet."),
        ar=(
            "السلامة من الألغام والمتفجرات",
            "كيف تتعرّف على الألغام والذخائر غير المنفجرة وأين تبلّغ عنها.",
        ),
    ),
    _t(
        "mine-safety.risk-education",
        "book-open",
        111,
        en=(
            "Mine risk education",
            "Sessions for adults and children on living safely near contaminated areas.",
        ),
        uk=(
            "Навчання з мінної безпеки",
            "Заняття для дорослих і дітей про безпечне життя поруч із замінованими територіями.",
        ),
        ru=(
            "Обучение минной безопасности",
            "Занятия для взрослых и детей о безопасной жизни рядом с заминированными территориями.",
        ),
        pl=(
            "Edukacja o zagrożeniu minowym",
            "Zajęcia dla dorosłych i dzieci o bezpiecznym życiu w pobliżu terenów zaminowanych.",
        ),
        de=(
            "Aufklärung über Minengefahr",
            "Kurse für Erwachsene und Kinder zum sicheren Leben in der Nähe verminter Gebiete.",
        ),
        ar=(
            "التوعية بمخاطر الألغام",
            "جلسات للكبار والأطفال حول العيش بأمان قرب المناطق الملوّثة بالألغام.",
        ),
    ),
    _t(
        "mine-safety.report",
        "siren",
        112,
        en=(
            "Report explosive ordnance",
            "Where to report a suspicious object: do not touch it, mark the place, call.",
        ),
        uk=(
            "Повідомити про вибухонебезпечний предмет",
            "Куди повідомити про підозрілий предмет: не торкайтеся, позначте місце, телефонуйте.",
        ),
        ru=(
            "Сообщить о взрывоопасном предмете",
            "Куда сообщить о подозрительном предмете: не трогайте, отметьте место, звоните.",
        ),
        pl=(
            "Zgłoś niewybuch",
            "Gdzie zgłosić podejrzany przedmiot: nie dotykaj, oznacz miejsce, zadzwoń.",
        ),
        de=(
            "Kampfmittel melden",
            "Wo man einen verdächtigen Gegenstand meldet: nicht berühren, Stelle markieren, anrufen.",
        ),
        ar=(
            "الإبلاغ عن الذخائر المتفجرة",
            "أين تبلّغ عن جسم مشبوه: لا تلمسه، ضع علامة على المكان، واتصل.",
        ),
    ),
    # --- children & family -----------------------------------------------------------------
    _t(
        "children-family",
        "children-family",
        120,
        en=(
            "Children & family",
            "Child-friendly spaces, mother-and-baby support and family reunification.",
        ),
        uk=(
            "Діти та сім’я",
            "Дитячі простори, підтримка матерів із немовлятами та возз’єднання сімей.",
        ),
        ru=(
            "Дети и семья",
            "Детские пространства, поддержка матерей с младенцами и воссоединение семей.",
        ),
        pl=(
            "Dzieci i rodzina",
            "Przestrzenie przyjazne dzieciom, wsparcie dla matek z niemowlętami i łączenie rodzin.",
        ),
        de=(
            "Kinder & Familie",
            "Kinderfreundliche Orte, Unterstützung für Mütter mit Babys und Familienzusammenführung.",
        ),
        ar=("الأطفال والأسرة", "مساحات صديقة للأطفال، ودعم الأمهات والرضّع، ولمّ شمل العائلات."),
    ),
    _t(
        "children-family.child-friendly-space",
        "blocks",
        121,
        en=(
            "Child-friendly spaces",
            "Safe places for children to play and learn, with caring adults.",
        ),
        uk=(
            "Дитячі простори",
            "Безпечні місця, де діти граються й навчаються під наглядом дорослих.",
        ),
        ru=(
            "Детские пространства",
            "Безопасные места, где дети играют и учатся под присмотром взрослых.",
        ),
        pl=(
            "Przestrzenie przyjazne dzieciom",
            "Bezpieczne miejsca do zabawy i nauki pod opieką dorosłych.",
        ),
        de=(
            "Kinderfreundliche Orte",
            "Sichere Orte zum Spielen und Lernen, mit Betreuung durch Erwachsene.",
        ),
        ar=("مساحات صديقة للأطفال", "أماكن آمنة يلعب فيها الأطفال ويتعلمون برعاية بالغين."),
    ),
    _t(
        "children-family.mother-baby",
        "heart",
        122,
        en=(
            "Mother & baby",
            "Support for pregnant women and parents of babies: rooms, supplies, advice.",
        ),
        uk=(
            "Мама і немовля",
            "Підтримка вагітних і батьків немовлят: кімнати матері й дитини, речі, консультації.",
        ),
        ru=(
            "Мама и младенец",
            "Поддержка беременных и родителей младенцев: комнаты матери и ребёнка, вещи, консультации.",
        ),
        pl=(
            "Matka i dziecko",
            "Wsparcie dla kobiet w ciąży i rodziców niemowląt: pokoje, artykuły, porady.",
        ),
        de=(
            "Mutter & Kind",
            "Unterstützung für Schwangere und Eltern von Babys: Räume, Ausstattung, Beratung.",
        ),
        ar=("الأم والطفل", "دعم الحوامل وآباء الرضّع: غرف مخصصة ومستلزمات ونصائح."),
    ),
    _t(
        "children-family.family-tracing",
        "users",
        123,
        en=("Family tracing", "Find missing relatives and reunite separated families."),
        uk=("Пошук рідних", "Пошук зниклих родичів і возз’єднання розлучених сімей."),
        ru=("Поиск родных", "Поиск пропавших родственников и воссоединение разлучённых семей."),
        pl=(
            "Poszukiwanie bliskich",
            "Odnajdywanie zaginionych krewnych i łączenie rozdzielonych rodzin.",
        ),
        de=(
            "Suche nach Angehörigen",
            "Vermisste Angehörige finden und getrennte Familien zusammenführen.",
        ),
        ar=("البحث عن الأقارب", "العثور على الأقارب المفقودين ولمّ شمل العائلات المشتّتة."),
    ),
    # --- protection ------------------------------------------------------------------------
    _t(
        "protection",
        "protection",
        130,
        en=(
            "Protection from violence",
            "Help for survivors of violence, trafficking and exploitation. Confidential.",
        ),
        uk=(
            "Захист від насильства",
            "Допомога постраждалим від насильства, торгівлі людьми та експлуатації. Конфіденційно.",
        ),
        ru=(
            "Защита от насилия",
            "Помощь пострадавшим от насилия, торговли людьми и эксплуатации. Конфиденциально.",
        ),
        pl=(
            "Ochrona przed przemocą",
            "Pomoc dla osób, które doświadczyły przemocy, handlu ludźmi lub wyzysku. Poufnie.",
        ),
        de=(
            "Schutz vor Gewalt",
            "Hilfe für Betroffene von Gewalt, Menschenhandel und Ausbeutung. Vertraulich.",
        ),
        ar=("الحماية من العنف", "مساعدة الناجين من العنف والاتجار بالبشر والاستغلال، بسرية تامة."),
    ),
    _t(
        "protection.gbv",
        "shield-heart",
        131,
        en=(
            "Gender-based violence",
            "Safe shelters, hotlines and counselling for women and girls.",
        ),
        uk=(
            "Гендерно зумовлене насильство",
            "Безпечні притулки, гарячі лінії та консультації для жінок і дівчат.",
        ),
        ru=(
            "Гендерное насилие",
            "Безопасные приюты, горячие линии и консультации для женщин и девочек.",
        ),
        pl=(
            "Przemoc ze względu na płeć",
            "Bezpieczne schroniska, telefony zaufania i poradnictwo dla kobiet i dziewcząt.",
        ),
        de=(
            "Geschlechtsspezifische Gewalt",
            "Geschützte Unterkünfte, Hotlines und Beratung für Frauen und Mädchen.",
        ),
        ar=(
            "العنف القائم على النوع الاجتماعي",
            "ملاجئ آمنة وخطوط ساخنة واستشارات للنساء والفتيات.",
        ),
    ),
    _t(
        "protection.anti-trafficking",
        "link-break",
        132,
        en=(
            "Trafficking & exploitation",
            "Check a job offer; get help if you are forced to work or cannot leave.",
        ),
        uk=(
            "Торгівля людьми",
            "Перевірте пропозицію роботи; отримайте допомогу, якщо вас змушують працювати або не відпускають.",
        ),
        ru=(
            "Торговля людьми",
            "Проверьте предложение о работе; получите помощь, если вас заставляют работать или не отпускают.",
        ),
        pl=(
            "Handel ludźmi",
            "Sprawdź ofertę pracy; uzyskaj pomoc, jeśli ktoś zmusza cię do pracy lub nie pozwala odejść.",
        ),
        de=(
            "Menschenhandel & Ausbeutung",
            "Jobangebote prüfen lassen; Hilfe, wenn Sie zur Arbeit gezwungen werden oder nicht gehen dürfen.",
        ),
        ar=(
            "الاتجار بالبشر والاستغلال",
            "تحقّق من عرض العمل، واحصل على المساعدة إذا أُجبرت على العمل أو مُنعت من المغادرة.",
        ),
    ),
    # --- work & education ------------------------------------------------------------------
    _t(
        "work-education",
        "work-education",
        140,
        en=("Work & education", "Jobs, language courses and school places for children."),
        uk=("Робота та освіта", "Робота, мовні курси та місця в школах для дітей."),
        ru=("Работа и образование", "Работа, языковые курсы и места в школах для детей."),
        pl=("Praca i edukacja", "Praca, kursy językowe i miejsca w szkołach dla dzieci."),
        de=("Arbeit & Bildung", "Arbeit, Sprachkurse und Schulplätze für Kinder."),
        ar=("العمل والتعليم", "وظائف ودورات لغة ومقاعد دراسية للأطفال."),
    ),
    _t(
        "work-education.employment",
        "hammer",
        141,
        en=("Jobs & employment", "Help with job search, CVs and work permits."),
        uk=(
            "Працевлаштування",
            "Допомога в пошуку роботи, складанні резюме та оформленні дозволу на роботу.",
        ),
        ru=(
            "Трудоустройство",
            "Помощь в поиске работы, составлении резюме и оформлении разрешения на работу.",
        ),
        pl=(
            "Praca i zatrudnienie",
            "Pomoc w szukaniu pracy, pisaniu CV i uzyskaniu zezwolenia na pracę.",
        ),
        de=(
            "Arbeit & Beschäftigung",
            "Hilfe bei der Jobsuche, beim Lebenslauf und bei der Arbeitserlaubnis.",
        ),
        ar=("العمل والتوظيف", "المساعدة في البحث عن عمل وكتابة السيرة الذاتية وتصاريح العمل."),
    ),
    _t(
        "work-education.language-courses",
        "languages",
        142,
        en=("Language courses", "Free courses in the local language for adults and teenagers."),
        uk=("Мовні курси", "Безкоштовні курси місцевої мови для дорослих і підлітків."),
        ru=("Языковые курсы", "Бесплатные курсы местного языка для взрослых и подростков."),
        pl=("Kursy językowe", "Bezpłatne kursy języka lokalnego dla dorosłych i młodzieży."),
        de=("Sprachkurse", "Kostenlose Kurse in der Landessprache für Erwachsene und Jugendliche."),
        ar=("دورات اللغة", "دورات مجانية في اللغة المحلية للكبار والمراهقين."),
    ),
    _t(
        "work-education.school",
        "school",
        143,
        en=(
            "School & kindergarten",
            "Enrol children in school or kindergarten; support for online learning.",
        ),
        uk=(
            "Школа і садочок",
            "Запис дітей до школи чи садочка, підтримка дистанційного навчання.",
        ),
        ru=(
            "Школа и детский сад",
            "Запись детей в школу или детский сад, поддержка дистанционного обучения.",
        ),
        pl=(
            "Szkoła i przedszkole",
            "Zapisy dzieci do szkoły lub przedszkola, wsparcie w nauce zdalnej.",
        ),
        de=("Schule & Kita", "Anmeldung in Schule oder Kita, Unterstützung beim Onlineunterricht."),
        ar=("المدرسة والروضة", "تسجيل الأطفال في المدرسة أو الروضة، ودعم التعلّم عن بُعد."),
    ),
    # --- pets ------------------------------------------------------------------------------
    _t(
        "pets",
        "pets",
        150,
        en=("Pets", "Veterinary care, pet food and pet-friendly places."),
        uk=("Тварини", "Ветеринарна допомога, корм і місця, куди можна з тваринами."),
        ru=("Животные", "Ветеринарная помощь, корм и места, куда можно с животными."),
        pl=("Zwierzęta", "Opieka weterynaryjna, karma i miejsca przyjazne zwierzętom."),
        de=("Haustiere", "Tierärztliche Hilfe, Tierfutter und tierfreundliche Orte."),
        ar=("الحيوانات الأليفة", "رعاية بيطرية وطعام للحيوانات وأماكن تقبل الحيوانات الأليفة."),
    ),
    _t(
        "pets.veterinary",
        "syringe",
        151,
        en=("Veterinary care", "Free or low-cost vets, vaccinations and microchips for travel."),
        uk=(
            "Ветеринарна допомога",
            "Безкоштовні або недорогі ветеринари, щеплення та чипування для виїзду.",
        ),
        ru=(
            "Ветеринарная помощь",
            "Бесплатные или недорогие ветеринары, прививки и чипирование для выезда.",
        ),
        pl=(
            "Opieka weterynaryjna",
            "Bezpłatni lub tani weterynarze, szczepienia i czipowanie przed podróżą.",
        ),
        de=(
            "Tierärztliche Versorgung",
            "Kostenlose oder günstige Tierärzte, Impfungen und Mikrochips für die Reise.",
        ),
        ar=(
            "الرعاية البيطرية",
            "أطباء بيطريون مجانًا أو بتكلفة منخفضة، ولقاحات وشرائح إلكترونية للسفر.",
        ),
    ),
    _t(
        "pets.food-supplies",
        "bone",
        152,
        en=("Pet food & supplies", "Food, carriers and leads for animals."),
        uk=("Корм і речі для тварин", "Корм, переноски та повідці для тварин."),
        ru=("Корм и вещи для животных", "Корм, переноски и поводки для животных."),
        pl=("Karma i akcesoria", "Karma, transportery i smycze dla zwierząt."),
        de=("Tierfutter & Zubehör", "Futter, Transportboxen und Leinen für Tiere."),
        ar=("طعام ومستلزمات الحيوانات", "طعام وحقائب نقل وأطواق للحيوانات."),
    ),
)

TERMS_BY_CODE: dict[str, TermDef] = {t.code: t for t in CRISIS_TAXONOMY}
TOP_LEVEL_CODES: tuple[str, ...] = tuple(t.code for t in CRISIS_TAXONOMY if t.parent_code is None)


def sync_translations(
    session: Session, entity_type: str, texts: Mapping[tuple[uuid.UUID, str, str], str]
) -> None:
    """Make `translation` hold exactly `texts` ((entity_id, field, locale) → value) for those keys:
    insert what is missing, update what changed, leave the rest (e.g. moderators' additions)."""
    if not texts:
        return
    ids = {key[0] for key in texts}
    existing: dict[tuple[uuid.UUID, str, str], tuple[uuid.UUID, str]] = {}
    id_list = list(ids)
    for start in range(0, len(id_list), 500):
        rows = session.execute(
            select(
                m.Translation.id,
                m.Translation.entity_id,
                m.Translation.field,
                m.Translation.locale,
                m.Translation.value,
            ).where(
                m.Translation.entity_type == entity_type,
                m.Translation.entity_id.in_(id_list[start : start + 500]),
            )
        )
        for tid, eid, field, locale, value in rows:
            existing[(eid, field, locale)] = (tid, value)
    new = []
    changed = False
    for (eid, field, locale), value in texts.items():
        found = existing.get((eid, field, locale))
        if found is None:
            new.append(
                {
                    "id": stable_id(f"translation:{entity_type}", f"{eid}:{field}:{locale}"),
                    "entity_type": entity_type,
                    "entity_id": eid,
                    "field": field,
                    "locale": locale,
                    "value": value,
                }
            )
        elif found[1] != value:
            session.execute(
                update(m.Translation).where(m.Translation.id == found[0]).values(value=value)
            )
            changed = True
    if new:
        session.execute(insert(m.Translation), new)
    if new or changed:
        # Core writes: no ORM flush gives the directory a new data version, so do it here
        # (readers cache place and category labels keyed on it).
        bump(session)


def ensure_taxonomy(session: Session) -> None:
    """Create or refresh the built-in crisis taxonomy (idempotent; never commits)."""
    if session.get(m.Taxonomy, TAXONOMY_ID) is None:
        session.add(
            m.Taxonomy(
                id=TAXONOMY_ID,
                name=TAXONOMY_NAME,
                taxonomy_version=TAXONOMY_VERSION,
                description="Built-in categories of aid for people affected by war and displacement.",
            )
        )
        session.flush()
    existing = {
        t.id: t
        for t in session.scalars(
            select(m.TaxonomyTerm).where(
                m.TaxonomyTerm.id.in_([term_id(d.code) for d in CRISIS_TAXONOMY])
            )
        )
    }
    texts: dict[tuple[uuid.UUID, str, str], str] = {}
    # Parents come before children in CRISIS_TAXONOMY, so a flush per level keeps FKs happy.
    for level in (0, 1):
        for d in CRISIS_TAXONOMY:
            if d.code.count(".") != level:
                continue
            tid = term_id(d.code)
            values = {
                "code": d.code,
                "name": d.name("en"),
                "description": d.description("en"),
                "parent_id": term_id(d.parent_code) if d.parent_code else None,
                "taxonomy": TAXONOMY_NAME,
                "taxonomy_id": TAXONOMY_ID,
                "language": "en",
                "position": d.position,
                "icon": d.icon,
                "archived_at": None,
            }
            term = existing.get(tid)
            if term is None:
                session.add(m.TaxonomyTerm(id=tid, **values))
            else:
                for key, value in values.items():
                    if getattr(term, key) != value:
                        setattr(term, key, value)
            for locale in LOCALES:
                if locale == "en":
                    continue
                texts[(tid, "name", locale)] = d.name(locale)
                texts[(tid, "description", locale)] = d.description(locale)
        session.flush()
    sync_translations(session, "taxonomy_term", texts)
    session.flush()
