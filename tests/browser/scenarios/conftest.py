"""The ten people of ../shared/SCENARIOS.md as acceptance tests: one live server on the demo data
for the whole session (uvicorn on a free port, a temporary SQLite file), one headless Chromium,
a 360×740 phone per person, and a screenshot of every step.

Screenshots go to a temporary folder; with AID_SCENARIO_SCREENSHOTS=1 (what `./dev screenshots`
sets) they go to docs/screenshots/scenarios/<n>-<name>/<step>.png, to be committed and looked at.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.browser.conftest import start_server
from tests.conftest import ROOT

PHONE = {"width": 360, "height": 740}
PASSWORD = "a long scenario password"
IN_DOCS = os.environ.get("AID_SCENARIO_SCREENSHOTS") == "1"
SHOTS = (
    ROOT / "docs" / "screenshots" / "scenarios"
    if IN_DOCS
    else Path(tempfile.gettempdir()) / "aid-scenario-screenshots"
)


@dataclass
class Person:
    email: str
    role: str
    regions: tuple[str, ...] = ()
    locale: str = "uk"
    totp: str = field(default_factory=pyotp.random_base32)


#: The people who sign in, and where they may work.
PEOPLE = {
    "maria": Person("maria.scenario@example.org", "volunteer", ("UA-46",)),
    "taras": Person("taras.scenario@example.org", "moderator", ("UA-30", "UA-32")),
    "olha": Person("olha.scenario@example.org", "moderator", ("UA-30", "UA-32")),
    "oksana": Person("oksana.scenario@example.org", "moderator", ("UA-46",)),
    "dmytro": Person("dmytro.scenario@example.org", "moderator", ("UA-12",)),
    "pavlo": Person("pavlo.scenario@example.org", "volunteer", ("UA-30",)),
    "mallory": Person("mallory.scenario@example.org", "volunteer", ("UA-30",)),
    "admin": Person("admin.scenario@example.org", "admin", (), "en"),
}


@dataclass
class ScenarioSite:
    url: str
    db_url: str
    people: dict[str, Person]
    #: browser storage (the session cookie) of each person once signed in: a moderator's
    #: one-time code is accepted once, so a second phone of the same person reuses the session
    signed_in: dict[str, Any] = field(default_factory=dict)

    def session(self) -> Any:
        """A database session on the served database (to arrange what others did before)."""
        from directory.db import make_engine, make_sessionmaker, session_scope

        engine = make_engine(self.db_url)
        return _Scoped(engine, session_scope(make_sessionmaker(engine)))


class _Scoped:
    def __init__(self, engine: Any, scope: Any) -> None:
        self.engine, self.scope = engine, scope

    def __enter__(self) -> Any:
        return self.scope.__enter__()

    def __exit__(self, *exc: Any) -> None:
        try:
            self.scope.__exit__(*exc)
        finally:
            self.engine.dispose()


@pytest.fixture(scope="session")
def scenario_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScenarioSite]:
    from directory.accounts.service import create_account

    path = tmp_path_factory.mktemp("scenarios") / "scenarios.db"
    base, _ids, server, thread = start_server(path)
    site = ScenarioSite(base, f"sqlite:///{path}", PEOPLE)
    with site.session() as db:
        for name, person in PEOPLE.items():
            account = create_account(
                db,
                email=person.email,
                password=PASSWORD,
                role=person.role,
                display_name=name.capitalize(),
                locale=person.locale,
                region_codes=person.regions,
            )
            if person.role != "volunteer":
                account.totp_secret = person.totp
    yield site
    server.should_exit = True
    thread.join(timeout=10)


class Steps:
    """Screenshots of one person's steps, numbered in the order taken."""

    def __init__(self, folder: str) -> None:
        self.dir = SHOTS / folder
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):
            old.unlink()
        self.n = 0

    def __call__(self, page: Any, name: str, show: Any = None) -> Path:
        """Screenshot of the phone's screen; `show` (a locator) is scrolled into view first."""
        self.n += 1
        path = self.dir / f"{self.n:02d}-{name}.png"
        if show is not None:
            show.first.scroll_into_view_if_needed()
        page.screenshot(path=str(path), full_page=False)
        return path


class Taps:
    """Counts what a person does with a finger: taps on controls and the keyboard's Enter."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.count = 0

    def tap(self, target: Any) -> None:
        self.count += 1
        locator = self.page.locator(target).first if isinstance(target, str) else target
        locator.click()

    def enter(self) -> None:
        self.count += 1
        self.page.keyboard.press("Enter")


def phone(
    browser: Any,
    locale: str,
    *,
    js: bool = True,
    workers: bool = False,
    timezone: str = "Europe/Kyiv",
    **extra: Any,
) -> Any:
    """A phone's browser: 360×740, touch, the person's language and clock, no cookies."""
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=1,
        has_touch=True,
        is_mobile=js,
        locale=locale,
        java_script_enabled=js,
        service_workers="allow" if workers else "block",
        timezone_id=timezone,
        **extra,
    )


def sign_in(page: Any, site: ScenarioSite, who: str, locale: str = "uk") -> None:
    person = site.people[who]
    page.goto(f"{site.url}/{locale}/manage/login")
    page.fill("#email", person.email)
    page.fill("#password", PASSWORD)
    page.click("form.m-form button[type=submit]")
    if person.role != "volunteer":
        page.wait_for_url(re.compile(r"/second-factor"))
        page.fill("#code", pyotp.TOTP(person.totp).now())
        page.click("form.m-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/{locale}/manage/$"))


def signed_in_phone(
    browser: Any, site: ScenarioSite, who: str, locale: str = "uk", **extra: Any
) -> tuple[Any, Any]:
    """A phone (context, page) on which `who` is signed in (once per session, then reused)."""
    state = site.signed_in.get(who)
    ctx = phone(
        browser,
        site.people[who].locale if locale is None else locale,
        **({"storage_state": state} if state else {}),
        **extra,
    )
    page = ctx.new_page()
    if state is None:
        sign_in(page, site, who, locale)
        site.signed_in[who] = ctx.storage_state()
    return ctx, page


def text_of(page: Any, selector: str = "main") -> str:
    return " ".join(page.locator(selector).first.inner_text().split())


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways: {width} px wide"


def approve_in_queue(
    page: Any,
    site: ScenarioSite,
    row_text: str,
    locale: str = "uk",
    steps: Steps | None = None,
    name: str = "diff",
) -> str:
    """A signed-in moderator opens the change from the queue, reads its diff and approves it;
    the diff's text."""
    page.goto(f"{site.url}/{locale}/manage/queue")
    row = page.locator("#queue li[id^=row-]").filter(has_text=row_text).first
    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(rf"/{locale}/manage/queue/"))
    diff = text_of(page, "main")
    assert page.locator("table.m-diff").count() >= 1, diff[:500]
    if steps is not None:
        steps(page, name, page.locator("table.m-diff"))
    with page.expect_navigation():
        page.click("form[action$='/approve'] button")
    assert "done=approved" in page.url, text_of(page)[:800]
    return diff
