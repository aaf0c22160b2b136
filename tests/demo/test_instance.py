"""A second `aid-directory demo` never rebuilds the database of one that is running."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from directory.cli import main
from directory.demo.instance import DemoInUse, claim


def test_a_running_demo_keeps_its_database_and_the_next_takes_its_own(tmp_path: Path) -> None:
    first = claim(tmp_path / "demo.db", explicit=False)
    first.announce("http://127.0.0.1:8000/")
    second = claim(tmp_path / "demo.db", explicit=False)
    third = claim(tmp_path / "demo.db", explicit=False)
    try:
        assert first.path == tmp_path / "demo.db"
        assert second.path == tmp_path / "demo-2.db" and third.path == tmp_path / "demo-3.db"
        assert "http://127.0.0.1:8000/" in second.others[0]  # it says where the other one serves
        with pytest.raises(DemoInUse, match="http://127.0.0.1:8000/"):
            claim(tmp_path / "demo.db", explicit=True)
    finally:
        for held in (first, second, third):
            held.release()
    again = claim(tmp_path / "demo.db", explicit=True)  # free once that demo ended
    again.release()


def test_demo_refuses_a_database_a_running_demo_serves(tmp_path: Path) -> None:
    database = tmp_path / "mine.db"
    database.write_bytes(b"the running demo's data")
    held = claim(database, explicit=True)
    held.announce("http://127.0.0.1:8123/")
    try:
        result = CliRunner().invoke(main, ["demo", "--db", str(database)])
    finally:
        held.release()
    assert result.exit_code == 2, result.output
    assert "in use by a running demo" in result.output and "http://127.0.0.1:8123/" in result.output
    assert "Traceback" not in result.output
    assert database.read_bytes() == b"the running demo's data"  # not rebuilt under it
