"""Browser tests: one live uvicorn server (a temporary SQLite file with the demo data) and one
headless Debian Chromium per session, driven by playwright. Never `playwright install`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class LiveSite:
    url: str
    #: ids of a few services known to exist (for direct links)
    service_ids: list[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_site_data(url: str) -> list[str]:
    """Migrate a new database and load the demo data (the test seed if the demo is empty)."""
    from sqlalchemy import select

    from directory.db import make_engine, make_sessionmaker, session_scope
    from directory.demo.loader import load_demo
    from directory.listings.models import Service
    from directory.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as db:
        load_demo(db)
        if db.scalar(select(Service.id).limit(1)) is None:
            from tests.web.seed import seed

            seed(db)
        ids = [str(i) for i in db.scalars(select(Service.id).order_by(Service.name).limit(5))]
    engine.dispose()
    return ids


def start_server(db_path: Path) -> tuple[str, list[str], Any, threading.Thread]:
    import uvicorn

    from directory.app import create_app
    from directory.config import Settings

    url = f"sqlite:///{db_path}"
    ids = load_site_data(url)
    app = create_app(Settings(database_url=url, secret_key="browser-test-" + "k" * 40, demo=True))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", ids, server, thread


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    base, ids, server, thread = start_server(tmp_path_factory.mktemp("site") / "site.db")
    yield LiveSite(base, ids)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def context(browser: Any) -> Iterator[Any]:
    # bypass_csp only so that axe-core can be injected; the pages' own CSP is tested elsewhere.
    ctx = browser.new_context(bypass_csp=True, locale="en-GB", service_workers="block")
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context: Any) -> Any:
    return context.new_page()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A/AA and best practices) on the page; the violations, if any."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag',
                values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return list(result)
