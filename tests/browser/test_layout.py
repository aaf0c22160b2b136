"""Layout on small phones: every page type (public, volunteer, moderator, admin, sign-in, error)
in all six locales at 320 and 360 px in headless Chromium. Nothing may scroll sideways
(`scrollWidth <= innerWidth`) and no text may be cut off (a box with hidden overflow whose
content is wider than the box). One browser; each page is loaded once per locale and measured
at both widths (a resize re-lays it out), so the whole matrix stays within a few minutes."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.browser.conftest import start_server

pytestmark = pytest.mark.browser

LOCALES = ("en", "uk", "ru", "pl", "de", "ar")
WIDTHS = (360, 320)
PASSWORD = "a long layout-test password"
#: Fixed (test-only) TOTP secrets, so a second process can sign in to the same test server.
SECRETS = {
    "moderator": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "admin": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
}
#: Screenshots of every page at both widths in en, uk and ar (not committed; to look at).
SCREENSHOTS = Path(tempfile.gettempdir()) / "aid-layout-screenshots"
SHOT_LOCALES = {"en", "uk", "ar"}

#: What the browser measures. Offenders are named by tag, id and classes, with their text.
MEASURE = """() => {
  const vw = window.innerWidth, out = {scroll: document.documentElement.scrollWidth, vw: vw,
    wide: [], cut: []};
  // (the interactive map is a window onto a larger plane: its panes lie outside it by design)
  const hidden = el => el.closest('.visually-hidden,.m-visually-hidden,.hp,[hidden],.skip,.m-skip,.leaflet-container,' +
    'details:not([open]) > :not(summary)');
  // Boxes people read or tap: their text must stay inside them.
  const boxes = /^(A|BUTTON|SUMMARY|LABEL|TH|TD|LI|H1|H2|H3|P|DT|DD|LEGEND)$/;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' "' + (el.innerText || el.value || '').trim().slice(0, 40) + '"';
  for (const el of document.body.querySelectorAll('*')) {
    if (hidden(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const cs = getComputedStyle(el);
    if (cs.position === 'fixed' && cs.visibility === 'hidden') continue;
    if ((r.right > vw + 1 || r.left < -1) && out.wide.length < 8) out.wide.push(name(el));
    // Text fields scroll their own value; a select shows its choice, not its list.
    const control = /^(INPUT|TEXTAREA|SELECT|OPTION)$/.test(el.tagName);
    const clips = !control && (/(hidden|clip)/.test(cs.overflowX) || cs.textOverflow === 'ellipsis');
    if (clips && el.scrollWidth > el.clientWidth + 1 && out.cut.length < 8) out.cut.push(name(el));
    else if (boxes.test(el.tagName) && cs.display !== 'inline' && el.clientWidth > 0 &&
             el.scrollWidth > el.clientWidth + 1 && out.cut.length < 8) out.cut.push(name(el) + ' sticks out');
  }
  return out;
}"""


@dataclass
class Site:
    url: str
    db_url: str
    service_id: str
    change_id: str
    #: two more pending capacity changes (other listings), for the in-place queue tests
    extra_changes: list[Any] = field(default_factory=list)
    #: role -> storage state (cookies) of a signed-in browser
    states: dict[str, Any] = field(default_factory=dict)


def _accounts(db_url: str) -> dict[str, Any]:
    """A volunteer, moderator, admin (TOTP known), a moderator still to enrol, a volunteer for
    another region than the listing's; pending changes by the volunteer."""
    from sqlalchemy import select

    from directory.accounts.service import create_account
    from directory.db import make_engine, make_sessionmaker, session_scope
    from directory.listings.models import Location, Place, ServiceAtLocation
    from directory.moderation import service as moderation

    engine = make_engine(db_url)
    with session_scope(make_sessionmaker(engine)) as db:
        volunteer = create_account(
            db,
            email="vol@example.org",
            password=PASSWORD,
            role="volunteer",
            display_name="Марія Kowalska",
        )
        for role in ("moderator", "admin"):
            acc = create_account(
                db,
                email=f"{role}@example.org",
                password=PASSWORD,
                role=role,
                display_name=role.title(),
            )
            acc.totp_secret = SECRETS[role]
        create_account(db, email="new@example.org", password=PASSWORD, role="moderator")
        links = db.scalars(
            select(ServiceAtLocation)
            .join(Location)
            .where(Location.capacity_available.is_not(None))
            .order_by(ServiceAtLocation.id)
            .limit(3)
        ).all()
        assert len(links) == 3
        changes = []
        for i, link in enumerate(links):
            loc = db.get(Location, link.location_id)
            assert loc is not None
            changes.append(
                moderation.propose(
                    db,
                    actor=volunteer,
                    entity_type="location",
                    kind="capacity",
                    entity_id=loc.id,
                    changes={"capacity_available": 3 + i},
                    comment="Ще 3 місця / 3 more places",
                    source="web",
                ).id
            )
        first = db.get(Location, links[0].location_id)
        assert first is not None
        other = db.scalars(
            select(Place)
            .where(Place.kind == "region", Place.id != first.region_id)
            .order_by(Place.code)
        ).first()
        assert other is not None
        create_account(
            db,
            email="elsewhere@example.org",
            password=PASSWORD,
            role="volunteer",
            region_ids=[other.id],
            locale="uk",
        )
        out = {
            "service_id": str(links[0].service_id),
            "change_id": str(changes[0]),
            "extra_changes": changes[1:],
        }
    engine.dispose()
    return out


def _sign_in(browser: Any, url: str, role: str) -> Any:
    ctx = browser.new_context(service_workers="block")
    page = ctx.new_page()
    page.goto(f"{url}/en/manage/login")
    page.fill("#email", f"{'vol' if role == 'volunteer' else role}@example.org")
    page.fill("#password", PASSWORD)
    page.click("form.m-form button[type=submit]")
    if role != "volunteer":
        page.wait_for_url(re.compile(r"/second-factor"))
        page.fill("#code", pyotp.TOTP(SECRETS[role]).now())
        page.click("form.m-form button[type=submit]")
    page.wait_for_url(re.compile(r"/en/manage/$"))
    state = ctx.storage_state()
    ctx.close()
    return state


def serve_site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A live server on the demo data with the accounts above, signed in once per role."""
    path = tmp_path_factory.mktemp("layout") / "layout.db"
    base, _ids, server, thread = start_server(path)
    db_url = f"sqlite:///{path}"
    s = Site(base, db_url, **_accounts(db_url))
    for role in ("volunteer", "moderator", "admin"):
        s.states[role] = _sign_in(browser, base, role)
    yield s
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def site(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    yield from serve_site(browser, tmp_path_factory)


def _pages(site: Site, role: str, locale: str) -> dict[str, str]:
    """The page types each person sees (paths under the locale)."""
    sid, cid = site.service_id, site.change_id
    m = f"/{locale}/manage"
    if role == "reader":
        return {
            "home": f"/{locale}/",
            "results": f"/{locale}/search",
            "results-category": f"/{locale}/search?category=shelter&open_now=1",
            "results-map": f"/{locale}/search?view=map",
            "results-empty": f"/{locale}/search?q=zzzqqqxxx",
            "service": f"/{locale}/services/{sid}",
            "reported": f"/{locale}/services/{sid}/reported",
            "about": f"/{locale}/about",
            "offline": f"/{locale}/offline",
            "error-404": f"/{locale}/services/00000000-0000-0000-0000-000000000000",
            "error-422": f"/{locale}/search?page=-5&radius=x",
            "login": f"{m}/login",
        }
    if role == "volunteer":
        return {
            "manage-start": f"{m}/",
            "manage-search": f"{m}/?q=a",
            "manage-listing": f"{m}/listings/{sid}",
            "manage-edit": f"{m}/listings/{sid}/edit",
            "manage-new": f"{m}/new",
            "manage-proposals": f"{m}/proposals",
            "manage-password": f"{m}/password",
            "manage-error-403": f"{m}/queue",
        }
    if role == "moderator":
        return {
            "manage-queue": f"{m}/queue",
            "manage-change": f"{m}/queue/{cid}",
            "manage-freshness": f"{m}/freshness",
            "manage-reports": f"{m}/reports",
        }
    return {
        "manage-users": f"{m}/users",
        "manage-tokens": f"{m}/tokens",
        "manage-notices": f"{m}/notices",
        "manage-taxonomy": f"{m}/taxonomy",
        "manage-error-404": f"{m}/queue/00000000-0000-0000-0000-000000000000",
    }


def _measure(page: Any, name: str, locale: str, problems: list[str]) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 740})
        got = page.evaluate(MEASURE)
        where = f"{name} [{locale}, {width}px]"
        if got["scroll"] > got["vw"]:
            problems.append(
                f"{where}: scrolls sideways ({got['scroll']} > {got['vw']}): {got['wide']}"
            )
        if got["cut"]:
            problems.append(f"{where}: text cut off: {got['cut']}")
        if locale in SHOT_LOCALES:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{locale}-{width}.png"), full_page=True)


@pytest.mark.parametrize("role", ["reader", "volunteer", "moderator", "admin"])
def test_no_page_scrolls_sideways_or_cuts_text(browser: Any, site: Site, role: str) -> None:
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740},
        service_workers="block",
        storage_state=site.states.get(role),
    )
    page = ctx.new_page()
    problems: list[str] = []
    try:
        for locale in LOCALES:
            for name, path in _pages(site, role, locale).items():
                response = page.goto(site.url + path)
                assert response is not None and response.status < 500, f"{path}: {response}"
                assert page.locator("html").get_attribute("lang") == locale, path
                _measure(page, name, locale, problems)
    finally:
        ctx.close()
    assert not problems, "\n".join(problems)


def test_sign_in_steps_fit_small_phones(browser: Any, site: Site) -> None:
    """The second-factor and enrolment pages exist only half-way through a sign-in."""
    problems: list[str] = []
    for email, step in (("moderator@example.org", "second-factor"), ("new@example.org", "enrol")):
        ctx = browser.new_context(viewport={"width": 360, "height": 740}, service_workers="block")
        page = ctx.new_page()
        try:
            page.goto(f"{site.url}/en/manage/login")
            page.fill("#email", email)
            page.fill("#password", PASSWORD)
            page.click("form.m-form button[type=submit]")
            page.wait_for_url(re.compile(step))
            for locale in LOCALES:
                page.goto(f"{site.url}/{locale}/manage/login/{step}")
                _measure(page, f"manage-{step}", locale, problems)
        finally:
            ctx.close()
    assert not problems, "\n".join(problems)


def test_diff_stacks_on_small_phones(browser: Any, site: Site) -> None:
    """Three diff columns at 360 px left ~100 px each and broke words letter by letter: on a
    phone each field stacks (its name, then "Now published" and "Proposed", each named)."""
    ctx = browser.new_context(
        viewport={"width": 360, "height": 740},
        service_workers="block",
        storage_state=site.states["moderator"],
    )
    page = ctx.new_page()
    try:
        for locale in ("en", "ar"):
            page.goto(f"{site.url}/{locale}/manage/queue/{site.change_id}")
            got = page.evaluate(
                """() => {
                  const t = document.querySelector('table.m-diff');
                  const td = t.querySelector('td.m-new, td.m-same');
                  return {table: t.getBoundingClientRect().width,
                          th: t.querySelector('th[scope=row]').getBoundingClientRect().width,
                          td: td.getBoundingClientRect().width,
                          label: getComputedStyle(td, '::before').content};
                }"""
            )
            assert got["th"] >= got["table"] - 2, (locale, got)
            assert got["td"] >= got["table"] - 2, (locale, got)
            assert got["label"] not in ("none", "normal", '""'), (locale, got)
            page.set_viewport_size({"width": 1024, "height": 740})
            wide = page.evaluate(
                "() => document.querySelector('table.m-diff td').getBoundingClientRect().width"
            )
            assert wide < got["table"], "on a wide screen the diff keeps its columns"
            page.set_viewport_size({"width": 360, "height": 740})
    finally:
        ctx.close()
