"""The CLI adapters, end to end on a scratch SQLite file (they open their own engine)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from directory.cli import main
from directory.db import make_engine, make_sessionmaker, session_scope
from directory.migrate import upgrade
from tests.exchange.test_import_errors import TEMPLATE
from tests.factories import make_account


@pytest.fixture()
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        make_account(session, "admin", email="admin@example.org")
    engine.dispose()
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    return url


def test_import_then_export_from_the_command_line(scratch: str, tmp_path: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(main, ["import", str(TEMPLATE)])
    assert checked.exit_code == 0, checked.output
    assert "Nothing was written (add --apply to write)" in checked.output
    refused = runner.invoke(main, ["import", str(TEMPLATE), "--apply", "--publish"])
    assert refused.exit_code == 2 and "--as" in refused.output
    written = runner.invoke(
        main,
        ["import", str(TEMPLATE), "--apply", "--publish", "--as", "admin@example.org", "--json"],
    )
    assert written.exit_code == 0, written.output
    report = json.loads(written.output)
    assert report["applied"] and report["counts"]["service"]["new"] == 2

    out = tmp_path / "out.csv"
    exported = runner.invoke(main, ["export", "--format", "csv", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["service_name"] for r in rows} == {
        "Hot meals at the community hall",
        "Basement shelter",
    }
    shelter = next(r for r in rows if r["service_name"] == "Basement shelter")
    assert shelter["address"] == "" and shelter["latitude"] == "49.84"  # approximate: rounded
    again = runner.invoke(
        main, ["import", str(out), "--apply", "--publish", "--as", "admin@example.org"]
    )
    assert again.exit_code == 0 and "Written: 0 change(s)" in again.output, again.output


def test_a_bad_file_exits_1_with_the_errors(scratch: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "organization_name,service_name,latitude\nAid,Soup,95\n,Tea,\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["import", str(bad), "--apply"])
    assert result.exit_code == 1
    assert "bad.csv:2: latitude: must be at most 90" in result.output
    assert "bad.csv:3: organization_name:" in result.output
    assert "Nothing was written" in result.output


def test_import_and_export_leave_the_callers_garbage_collection_as_they_found_it(
    scratch: str, tmp_path: Path
) -> None:
    """The commands tune the cyclic collector for their own run (freeze, rare collections); run
    inside a longer-lived process (this test session) they must restore it when they end, or
    every later test would run with nothing collected (the suite grew to 3 GB and slowed)."""
    import gc

    before = gc.get_threshold()
    frozen = gc.get_freeze_count()
    runner = CliRunner()
    assert runner.invoke(main, ["import", str(TEMPLATE)]).exit_code == 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0 if frozen == 0 else gc.get_freeze_count() >= frozen
    out = tmp_path / "out.json"
    assert runner.invoke(main, ["export", "--format", "hsds-json", "-o", str(out)]).exit_code == 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0 if frozen == 0 else gc.get_freeze_count() >= frozen
