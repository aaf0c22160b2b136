"""Scenario 7: an NGO data officer exports the directory in HSDS and HXL for a coordination
meeting, and checks a partner's spreadsheet of 400 new listings: the report names the 12 wrong
rows (line and field, in words) before anything is written; with them fixed, it is written
through moderation."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.scenarios.conftest import ScenarioSite, Steps, phone
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

TEMPLATE = ROOT / "directory" / "exchange" / "templates" / "listings-template.csv"
#: (row index, field, wrong value): twelve kinds of mistakes a partner's sheet has.
WRONG = [
    (17, "phone", "call me maybe"),
    (48, "status", "sometimes"),
    (79, "latitude", "999"),
    (110, "categories", "no-such-category"),
    (141, "service_name", ""),
    (172, "hours", "whenever"),
    (203, "email", "not-an-email"),
    (234, "website", "javascript:alert(1)"),
    (265, "phone", "12345"),
    (296, "latitude", "-91"),
    (327, "categories", "heat"),
    (358, "longitude", "east"),
]


def _spreadsheet(path: Path, *, wrong: bool) -> None:
    base = next(csv.DictReader(io.StringIO(TEMPLATE.read_text(encoding="utf-8-sig"))))
    rows = []
    for i in range(400):
        row = dict(
            base,
            external_id=f"partner-{i:03d}",
            service_name=f"Partner hot meals No. {i}",
            phone=f"+38032{1000000 + i}",
        )
        rows.append(row)
    if wrong:
        for i, field, value in WRONG:
            rows[i][field] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(base))
        writer.writeheader()
        writer.writerows(rows)


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


def _services(site: ScenarioSite) -> int:
    from sqlalchemy import func, select

    from directory.listings.models import Service
    from directory.moderation.models import ChangeRequest

    with site.session() as db:
        return int(db.scalar(select(func.count()).select_from(Service)) or 0) + int(
            db.scalar(select(func.count()).select_from(ChangeRequest)) or 0
        )


def test_the_data_officer_exports_and_reads_the_import_report_first(
    browser, scenario_site: ScenarioSite, tmp_path: Path
) -> None:
    steps = Steps("07-data-officer")
    # The exports for the meeting, as a browser downloads them.
    ctx = phone(browser, "en-GB")
    try:
        page = ctx.new_page()
        api = scenario_site.url + "/api/v1"
        hsds = page.request.get(f"{api}/export/hsds-json")
        assert hsds.ok and "attachment" in hsds.headers.get("content-disposition", "")
        services = json.loads(hsds.body())
        assert len(services) > 200 and {"id", "name", "organization"} <= set(services[0])
        hxl = page.request.get(f"{api}/export/hxl")
        assert hxl.ok
        lines = hxl.body().decode("utf-8-sig").splitlines()
        assert lines[1].startswith("#") and "#org+name" in lines[1] and "#adm1+name" in lines[1]
        assert len(lines) > 200
        page.set_content(
            "<pre style='white-space:pre-wrap;font-size:11px'>"
            + html.escape("\n".join(lines[:12]))
            + "</pre>"
        )
        steps(page, "hxl-export")

        # The partner's sheet: 400 rows, 12 wrong. The check reports them; nothing is written.
        sheet = tmp_path / "partner.csv"
        _spreadsheet(sheet, wrong=True)
        before = _services(scenario_site)
        checked = _cli(scenario_site, "import", str(sheet))
        report = checked.stdout + checked.stderr
        page.set_content(
            "<pre style='white-space:pre-wrap;font-size:11px'>" + html.escape(report) + "</pre>"
        )
        steps(page, "import-report")
        assert "400 services read" in report, report
        assert "12 error(s)" in report, report
        for i, field, _value in WRONG:
            assert f"partner.csv:{i + 2}: {field}:" in report, (i, field, report)
        assert "Nothing was written" in report
        refused = _cli(scenario_site, "import", str(sheet), "--apply")
        assert refused.returncode != 0 and "12 error(s)" in refused.stdout + refused.stderr
        assert _services(scenario_site) == before  # nothing written, not even part of it

    finally:
        ctx.close()
    # Fixed by the partner: written all at once, as change requests for moderators.
    _spreadsheet(sheet, wrong=False)
    applied = _cli(scenario_site, "import", str(sheet), "--apply")
    said = applied.stdout + applied.stderr
    assert applied.returncode == 0, said
    assert _services(scenario_site) > before
