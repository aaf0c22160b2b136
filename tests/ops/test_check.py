"""`aid-directory check`: unsafe production settings are reported, safe ones pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from directory.cli import main
from directory.config import DEMO_SECRET_PREFIX, Settings
from directory.db import make_engine
from directory.migrate import upgrade
from directory.ops import deploy_checks

GOOD_SECRET = "Vq3n8Zr0-pX1yLk7Hs2dTb6WmJc9Ue4A_fGoRi5N"


def _ids(settings: Settings, **kwargs: object) -> set[str]:
    return {f.id for f in deploy_checks(settings, **kwargs)}  # type: ignore[arg-type]


def _safe(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": "postgresql+psycopg://aid@db.example.org/aid",
        "secret_key": GOOD_SECRET,
        "https": True,
        "base_url": "https://help.example.org",
        "allowed_hosts": "help.example.org",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_safe_production_settings_pass() -> None:
    assert deploy_checks(_safe(), workers=4) == []


@pytest.mark.parametrize(
    ("overrides", "workers", "expected"),
    [
        ({"secret_key": None}, 1, "directory.E001"),
        (
            {"secret_key": DEMO_SECRET_PREFIX + "abcdefghijklmnopqrstuvwxyz0123456789"},
            1,
            "directory.E002",
        ),
        ({"secret_key": "change-me"}, 1, "directory.E002"),
        ({"secret_key": "short-but-random-9"}, 1, "directory.E003"),
        ({"secret_key": "a" * 64}, 1, "directory.E003"),
        ({"debug": True}, 1, "directory.E004"),
        ({"database_url": "sqlite:///var/directory.db"}, 4, "directory.E005"),
        ({"database_url": "sqlite://"}, 1, "directory.E006"),
        ({"https": False}, 1, "directory.W001"),
        ({"base_url": ""}, 1, "directory.W002"),
        ({"base_url": "http://help.example.org"}, 1, "directory.W003"),
        ({"demo": True}, 1, "directory.W004"),
        ({"allowed_hosts": "*"}, 1, "directory.E007"),
        ({"allowed_hosts": "help.example.org,*.org"}, 1, "directory.E007"),
        ({"allowed_hosts": ""}, 1, "directory.W007"),
        ({"allowed_hosts": "", "base_url": ""}, 1, "directory.W007"),
    ],
)
def test_each_unsafe_setting_is_reported(
    overrides: dict[str, object], workers: int, expected: str
) -> None:
    assert expected in _ids(_safe(**overrides), workers=workers)


def test_sqlite_with_one_worker_is_fine() -> None:
    assert "directory.E005" not in _ids(_safe(database_url="sqlite:///x.db"), workers=1)


def test_world_readable_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    db.write_bytes(b"")
    os.chmod(db, 0o644)
    assert "directory.W006" in _ids(_safe(database_url=f"sqlite:///{db}"), workers=1)
    os.chmod(db, 0o600)
    assert "directory.W006" not in _ids(_safe(database_url=f"sqlite:///{db}"), workers=1)


def test_database_checks(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    empty = make_engine(url)
    assert "directory.E011" in _ids(_safe(database_url=url), workers=1, engine=empty)
    empty.dispose()
    upgrade(url)
    os.chmod(tmp_path / "c.db", 0o600)
    current = make_engine(url)
    assert _ids(_safe(database_url=url), workers=1, engine=current) == set()
    current.dispose()
    gone = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    assert "directory.E010" in _ids(_safe(), engine=gone)


def test_cli_check_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    os.chmod(tmp_path / "cli.db", 0o600)
    runner = CliRunner()
    for key in ("DIRECTORY_DEBUG", "DIRECTORY_DEMO", "DIRECTORY_WORKERS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    monkeypatch.setenv("DIRECTORY_SECRET_KEY", DEMO_SECRET_PREFIX + "x" * 40)
    bad = runner.invoke(main, ["check", "--workers", "3"])
    assert bad.exit_code == 1
    assert "directory.E002" in bad.output and "directory.E005" in bad.output
    assert "HINT:" in bad.output and "Traceback" not in bad.output
    monkeypatch.setenv("DIRECTORY_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("DIRECTORY_HTTPS", "true")
    monkeypatch.setenv("DIRECTORY_BASE_URL", "https://help.example.org")
    monkeypatch.setenv("DIRECTORY_ALLOWED_HOSTS", "help.example.org")
    good = runner.invoke(main, ["check"])
    assert good.exit_code == 0, good.output
    assert "0 issue(s)" in good.output
    monkeypatch.setenv("DIRECTORY_HTTPS", "false")
    warn = runner.invoke(main, ["check"])
    assert warn.exit_code == 0 and "directory.W001" in warn.output
    assert runner.invoke(main, ["check", "--fail-level", "warning"]).exit_code == 1
