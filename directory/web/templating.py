"""Jinja2 for every HTML adapter (public pages and the volunteer app share the base layout,
macros and i18n): gettext bound to the request's locale, Babel filters, hashed static URLs,
and `render()` which answers a full page or only one block of it (htmx), with ETag/304."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel.lists import format_list
from jinja2 import Environment, FileSystemLoader, pass_context, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from directory import httpcache, i18n
from directory.listings.notices import KIND_LABELS
from directory.web.staticfiles import Manifest

PACKAGE = Path(__file__).resolve().parents[1]
#: The public templates. The volunteer app overlays its own folder on `environment()` and
#: extends "base.html" and imports "macros.html" from here.
TEMPLATE_DIRS = [PACKAGE / "web" / "templates"]
BASE_TEMPLATE = "base.html"
#: Anonymous pages may be reused by browsers and proxies for a short while.
PUBLIC_CACHE = "public, max-age=60"


def _gettext(message: str) -> str:
    return i18n.translations(i18n.get_locale()).ugettext(message)


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
    """`_()` in templates: Jinja's newstyle gettext, without its alias and context indirections."""
    rv: str = i18n.translations(i18n.get_locale()).ugettext(message)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - our catalogs, as Jinja itself does; variables get escaped
    return rv % variables


def svg_icons(icons: Mapping[str, str]) -> Callable[[str], Markup]:
    """`icon(name)` of macros.html, over its ICONS table (a Jinja macro call costs ~5 us)."""

    made: dict[str, Markup] = {}  # by name: the icons are a fixed set

    def icon(name: str) -> Markup:
        svg = made.get(name)
        if svg is None:
            svg = made[name] = Markup(  # noqa: S704 - fixed markup; the path data is escaped
                '<svg class="i" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true"'
                ' focusable="false"><path d="%s"/></svg>'
            ) % icons.get(name, icons["info"])
        return svg

    return icon


def local_text(text: Any, tag: str = "span", class_: str = "") -> Markup:
    """`local(text, tag, class_)` of macros.html: a listing text in its element, with `lang` and
    `dir` when it is shown in another language than the reader's. Jinja's attribute lookup
    (attribute, else item, else empty), like the macro it replaces."""
    if not text:
        return Markup("")
    get = environment().getattr
    attrs = ""
    if class_:
        attrs += f' class="{escape(class_)}"'
    if get(text, "fallback"):
        code = get(text, "locale")
        attrs += f' lang="{escape(code)}" dir="{escape(i18n.text_direction(code))}"'
    tag_ = escape(tag)
    return Markup(f"<{tag_}{attrs}>{escape(get(text, 'value'))}</{tag_}>")  # noqa: S704 - escaped


def _ngettext(singular: str, plural: str, num: int) -> str:
    return i18n.translations(i18n.get_locale()).ungettext(singular, plural, num)


def _pgettext(context: str, message: str) -> str:
    return i18n.translations(i18n.get_locale()).upgettext(context, message)


def _npgettext(context: str, singular: str, plural: str, num: int) -> str:
    return i18n.translations(i18n.get_locale()).unpgettext(context, singular, plural, num)


def _zone_of(item: Any) -> str | None:
    """The time zone of a card's or a service's (first) location."""
    location = getattr(item, "location", None)
    if location is None:
        locations = getattr(item, "locations", None) or ()
        location = locations[0] if locations else None
    return getattr(location, "timezone", None)


def _when(value: Any, item: Any = None) -> str:
    return i18n.format_when(value, _zone_of(item) if item is not None else None)


def _utcnow() -> Any:

    return dt.datetime.now(dt.UTC)


def _notice_when(notice: Any, now: Any = None) -> str:
    """ "since 12:06 · until 14:06 (Kyiv time)": a notice's times in its region's zone (the
    directory's for nationwide ones), the zone named (a reader may be anywhere)."""
    tz = getattr(notice, "timezone", None)
    zone = i18n.format_zone(tz) if tz else "UTC"
    start = i18n.format_when(notice.valid_from, tz, now)
    if notice.valid_until is not None:
        end = i18n.format_when(notice.valid_until, tz, now)
        return i18n.gettext(
            "since %(start)s · until %(end)s (%(zone)s time)", start=start, end=end, zone=zone
        )
    return i18n.gettext("since %(start)s (%(zone)s time)", start=start, zone=zone)


def _region_links(regions: Any, locale: str) -> Markup:
    """Links to the home page of each region, joined as a list in the reader's language
    ("Dnipro, Kharkiv і Odesa", CLDR list patterns)."""

    links = [
        Markup('<a href="/%s/?place=%s">%s</a>')
        % (locale, quote(str(r.code or r.id), safe=""), local_text(r.name))
        for r in regions
    ]
    return _link_list(links)


def _link_list(links: list[Markup]) -> Markup:

    if not links:
        return Markup("")
    tokens = [f"\x00{i}\x00" for i in range(len(links))]
    text = str(
        escape(format_list(tokens, style="standard", locale=i18n.babel_locale(i18n.get_locale())))
    )
    for token, link in zip(tokens, links, strict=True):
        text = text.replace(token, str(link))
    return Markup(text)  # noqa: S704 - the list pattern is escaped, the links are Markup


def _and_list(items: Any, each: Any = None) -> str:
    """Words as a list in the reader's language ("Russian and Ukrainian", Arabic with its own
    conjunction, never a Latin comma inside Arabic text)."""
    from babel.lists import format_list

    words = [str(each(i) if each else i) for i in items]
    if not words:
        return ""
    return format_list(words, style="standard", locale=i18n.babel_locale(i18n.get_locale()))


def _notice_kinds() -> Mapping[str, Any]:

    return KIND_LABELS


def _opens(value: Any) -> str:
    """A local opening time (already in the location's zone)."""
    return i18n.format_when(value)


def _named(ctx: Any, text: str, item: Any) -> str:
    """`text` (a time of `item`'s place) with the zone named when it is not the directory's own
    (`home_zone` of the page): "18:00 (Warsaw time)" on a list that mixes zones."""
    zone = _zone_of(item)
    home = ctx.get("home_zone")
    if zone and home and zone != home:
        return i18n.gettext("%(time)s (%(zone)s time)", time=text, zone=i18n.format_zone(zone))
    return text


@pass_context
def _when_named(ctx: Any, value: Any, item: Any) -> str:
    return _named(ctx, _when(value, item), item)


@pass_context
def _opens_named(ctx: Any, value: Any, item: Any) -> str:
    return _named(ctx, _opens(value), item)


@pass_context
def _time_named(ctx: Any, value: Any, item: Any) -> str:
    return _named(ctx, i18n.format_time(value), item)


#: Rendered result cards kept per process (a card's HTML is about 1.5 KB).
CARD_HTML_ENTRIES = 4000
_card_lock = threading.Lock()
_card_html_cache: OrderedDict[tuple[Any, ...], Markup] = OrderedDict()


def _card_clock(card: Any) -> tuple[str, ...]:
    """Every text of `_card.html` (and the `_status.html` it includes) that depends on the time
    of rendering rather than on the card: "checked 3 days ago", "updated 2 hours ago", the
    "until ..." of a temporary status and the "opens ..." of a closed place ("18:00" today,
    "Tue 08:00" later in the week). A template change that shows another such text must add it
    here (tests/web/test_card_html.py renders every card both ways)."""
    out = [i18n.format_ago(card.last_verified) if card.last_verified else ""]
    loc = card.location
    updated = loc.capacity.updated if loc is not None else None
    out.append(i18n.format_ago(updated) if updated else "")
    out.append(_when(card.status.until, card) if card.status.until else "")
    opens = card.open.opens_next if card.open is not None else None
    out.append(_opens(opens) if opens else "")
    return tuple(out)


@pass_context
def _card_html(ctx: Any, card: Any, number: int | None) -> Markup:
    """`_card.html` for `card`, rendered once and reused while nothing it shows changes.

    The key is the card itself (a frozen value: every text, status, distance and redacted
    location it shows, so a change to the data or a different request gives another key and a
    cached card can never be stale or show what the uncached page would not), the page's
    locale, home zone and number, and the time-dependent texts (`_card_clock`). It holds only
    HTML: nothing per reader, no cookie."""
    env = ctx.environment
    try:
        key = (
            id(env),
            i18n.get_locale(),
            ctx.get("locale"),
            ctx.get("home_zone"),
            number,
            card,
            _card_clock(card),
        )
        hash(key)
    except TypeError:  # a card holding an unhashable value: render it every time
        key = None
    if key is not None:
        with _card_lock:
            html = _card_html_cache.get(key)
            if html is not None:
                _card_html_cache.move_to_end(key)
                return html
    tmpl = env.get_template("_card.html")
    html = Markup(tmpl.render({**ctx.get_all(), "card": card, "number": number}))  # noqa: S704 - autoescaped template
    if key is not None:
        with _card_lock:
            _card_html_cache[key] = html
            while len(_card_html_cache) > CARD_HTML_ENTRIES:
                _card_html_cache.popitem(last=False)
    return html


def clear_card_html() -> None:
    with _card_lock:
        _card_html_cache.clear()


def _bdi(value: Any) -> Markup:
    """Isolate a value (a time, a number, a name in another script) from the text around it, so
    that bidirectional reordering never mixes the two: `<bdi>` (see docs/frontend.md)."""
    return Markup("<bdi>{}</bdi>").format(value)


def make_environment(manifest: Manifest) -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS if d.exists()]),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are compiled once per process and never re-checked: with auto_reload every
        # get_template/include/import stats the file (~30 per search page). Restart to reload.
        auto_reload=False,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )
    # `_()` is what templates call (~120 times per search page). Jinja's `_` goes through three
    # context calls (alias -> newstyle gettext -> our function); this one does the same work
    # (translate, Markup when autoescaping, always %-format so "%%" and escaping behave alike)
    # in one. `gettext`, `{% trans %}` and the plural forms keep Jinja's own callables.
    env.globals["_"] = _template_gettext
    env.globals.update(
        static=manifest.url,
        optional_static=manifest.optional,
        get_locale=i18n.get_locale,
        locale_name=i18n.locale_name,
        text_direction=i18n.text_direction,
        available_locales=i18n.available_locales,
        language_name=i18n.language_name,
        format_zone=i18n.format_zone,
        when_in=i18n.format_when,
        utcnow=_utcnow,
        when=_when,
        opens=_opens,
        when_named=_when_named,
        opens_named=_opens_named,
        time_named=_time_named,
        card_html=_card_html,
        notice_when=_notice_when,
        region_links=_region_links,
        notice_kinds=_notice_kinds(),
        svg_icons=svg_icons,
        local_text=local_text,
    )
    env.globals.update(
        format_datetime=i18n.format_datetime,
        format_date=i18n.format_date,
        format_time=i18n.format_time,
        format_ago=i18n.format_ago,
        format_number=i18n.format_number,
        format_distance=i18n.format_distance,
    )
    env.filters.update(
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        time=i18n.format_time,
        time_range=i18n.format_time_range,
        bdi=_bdi,
        ago=i18n.format_ago,
        number=i18n.format_number,
        distance=i18n.format_distance,
        weekday=i18n.format_weekday,
        phone=i18n.format_phone,
        and_list=_and_list,
    )
    return env


@cache
def manifest() -> Manifest:
    """Hashed names of the static files, computed once per process."""
    return Manifest()


@cache
def environment() -> Environment:
    """The shared Jinja environment (one per process; templates are compiled once)."""
    return make_environment(manifest())


def etag_for(body: bytes) -> str:
    return 'W/"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
    blocks: tuple[str, ...] = (),
    headers: Mapping[str, str] | None = None,
    cache: str | None = PUBLIC_CACHE,
    etag: str | None = None,
) -> Response:
    """Render `template` (or only some of its `blocks`, for htmx) in the request's locale.

    Cacheable answers (`cache` set, status 200, anonymous request) carry an ETag — `etag` when
    the route made one before rendering (`directory.httpcache`), else a hash of the bytes — and
    become 304 when the browser already holds it. Requests with credentials get neither.
    """
    env = environment()
    tmpl = env.get_template(template)
    ctx = {"request": request, **context}
    if not blocks:
        html = tmpl.render(ctx)
    else:
        parts = []
        for name in blocks:
            # A block the page does not override lives in the layout it extends.
            owner = tmpl if name in tmpl.blocks else env.get_template(BASE_TEMPLATE)
            parts.append("".join(owner.blocks[name](owner.new_context(ctx))))
        html = "".join(parts)
    body = html.encode("utf-8")
    out_headers = dict(headers or {})
    out_headers["Content-Language"] = i18n.get_locale()
    if cache and status_code == 200 and httpcache.anonymous(request):
        etag = etag or etag_for(body)
        out_headers["ETag"] = etag
        out_headers["Cache-Control"] = cache
        if httpcache.matches(request, etag):
            return Response(status_code=304, headers=out_headers)
    return HTMLResponse(body, status_code=status_code, headers=out_headers)
