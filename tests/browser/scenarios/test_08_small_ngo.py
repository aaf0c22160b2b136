"""Scenario 8 (the part the product supports today): a small NGO's admin runs the directory on
one cheap server with SQLite, takes a backup while it serves, and restores it without losing a
record — every table's rows as they were, and the public pages showing them again.

Not covered: the move to PostgreSQL. There is no documented SQLite → PostgreSQL move that keeps
accounts, notices, change history and the audit log (export/import carries listings only)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.scenarios.conftest import ScenarioSite, Steps, phone, text_of
from tests.conftest import ROOT

pytestmark = pytest.mark.browser


def _cli(site: ScenarioSite, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DIRECTORY_DATABASE_URL": site.db_url}
    return subprocess.run(
        [sys.executable, "-m", "directory", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _rows(site: ScenarioSite) -> dict[str, int]:
    from sqlalchemy import func, inspect, select, table

    with site.session() as db:
        names = inspect(db.get_bind()).get_table_names()
        return {n: int(db.scalar(select(func.count()).select_from(table(n))) or 0) for n in names}


def _lviv_centre(site: ScenarioSite) -> tuple[str, str, int]:
    from sqlalchemy import select

    from directory.listings import models as m

    with site.session() as db:
        lviv = db.scalar(select(m.Place).where(m.Place.code == "lviv"))
        loc = db.scalar(
            select(m.Location).where(
                m.Location.place_id == lviv.id, m.Location.name.like("%гуртожитку № 1%")
            )
        )
        sid = db.scalar(
            select(m.ServiceAtLocation.service_id).where(m.ServiceAtLocation.location_id == loc.id)
        )
        return str(sid), str(loc.id), int(loc.capacity_available or 0)


def test_the_small_ngo_backs_up_and_restores_without_losing_a_record(
    browser, scenario_site: ScenarioSite, tmp_path: Path
) -> None:
    steps = Steps("08-small-ngo")
    backup = tmp_path / "directory.bak"
    before = _rows(scenario_site)
    service_id, location_id, free = _lviv_centre(scenario_site)
    made = _cli(scenario_site, "backup", str(backup))
    assert made.returncode == 0, made.stdout + made.stderr
    assert backup.stat().st_size > 100_000
    assert oct(backup.stat().st_mode & 0o777) == "0o600"  # it holds confidential addresses

    # After the backup, someone publishes a wrong number of free places.
    from directory.accounts.models import Account
    from directory.moderation import service as moderation

    with scenario_site.session() as db:
        from sqlalchemy import select

        admin = db.scalar(
            select(Account).where(Account.email == scenario_site.people["admin"].email)
        )
        from directory.listings.models import Location

        loc = db.get(Location, __import__("uuid").UUID(location_id))
        moderation.propose(
            db,
            actor=admin,
            entity_type="location",
            kind="capacity",
            entity_id=loc.id,
            base_version=loc.version,
            changes={"capacity_available": free + 50},
            trusted_publish=True,
        )
    ctx = phone(browser, "uk-UA")
    try:
        page = ctx.new_page()
        page.goto(f"{scenario_site.url}/uk/services/{service_id}")
        assert f"{free + 50} вільн" in text_of(page), text_of(page)[:600]
        steps(page, "after-a-wrong-change")

        restored = _cli(scenario_site, "restore", str(backup), "--yes")
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert _rows(scenario_site) == before  # every table, every row
        ctx.close()
        ctx = phone(browser, "uk-UA")  # a reader arriving afterwards (no copy in her browser)
        page = ctx.new_page()
        page.goto(f"{scenario_site.url}/uk/services/{service_id}")
        said = text_of(page)
        assert re.search(rf"\b{free} вільн", said) and f"{free + 50} вільн" not in said, re.findall(
            r".{40}місц.{40}", said
        )
        steps(page, "restored")
    finally:
        ctx.close()
