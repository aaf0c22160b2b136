"""deploy/compose.yaml stays consistent with what the tests run (it cannot be run here: no Docker
daemon on the development machine; the same shape runs in tests/ops/test_nginx.py and
test_replicas.py with Debian's binaries)."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from directory.cli import main
from directory.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_every_directory_setting_in_the_compose_file_exists() -> None:
    fields = {f"DIRECTORY_{name.upper()}" for name in Settings.model_fields}
    for name, service in _compose()["services"].items():
        for key in service.get("environment", {}):
            if key.startswith("DIRECTORY_"):
                assert key in fields, f"{name}: {key} is not a setting"


def test_the_app_containers_run_commands_that_exist() -> None:
    services = _compose()["services"]
    for name in ("migrate", "app", "alerts"):
        command = services[name]["command"]
        assert command[0] == "aid-directory"
        result = CliRunner().invoke(main, [*command[1:], "--help"])
        assert result.exit_code == 0, (name, result.output)
    assert services["app"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (ROOT / "deploy" / "Dockerfile").exists()


def test_reads_go_to_the_replica_and_nginx_runs_the_shipped_config() -> None:
    services = _compose()["services"]
    env = services["app"]["environment"]
    assert "@db:" in env["DIRECTORY_DATABASE_URL"]
    assert "@db-replica:" in env["DIRECTORY_DATABASE_REPLICA_URLS"]
    assert "pg_basebackup" in " ".join(services["db-replica"]["entrypoint"])
    mounts = services["nginx"]["volumes"]
    assert any(m.startswith("./nginx/aid-directory.conf:") for m in mounts)
    shipped = (ROOT / "deploy" / "nginx" / "aid-directory.conf").read_text(encoding="utf-8")
    # the compose command re-addresses exactly what the shipped file contains
    assert "127.0.0.1:8000" in shipped and "help.example.org;" in shipped
    assert (ROOT / "deploy" / "compose" / "replication.sh").exists()
