"""The command line: clear one-line errors with a hint, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from directory.cli import main
from directory.migrate import upgrade


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "directory", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "migrate", "load-demo", "demo"):
        assert command in result.output


@pytest.mark.parametrize(
    ("env", "args", "message", "hint"),
    [
        (
            {"DIRECTORY_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"},
            ["migrate"],
            "cannot reach the database",
            "DIRECTORY_DATABASE_URL",
        ),
        (
            {"DIRECTORY_DATABASE_URL": "postgress://typo/db"},
            ["migrate"],
            "not a database URL we understand",
            "postgresql+psycopg://",
        ),
        ({"DIRECTORY_TIMEZONE": "Mars/Olympus"}, ["migrate"], "DIRECTORY_TIMEZONE", "README"),
        ({"DIRECTORY_DEFAULT_LOCALE": "xx"}, ["migrate"], "DIRECTORY_DEFAULT_LOCALE", "README"),
    ],
)
def test_expected_failures_are_one_line_with_a_hint(
    env: dict[str, str], args: list[str], message: str, hint: str
) -> None:
    result = run(args, env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert "Hint:" in result.stderr and hint in result.stderr


def test_serve_refuses_missing_secret_and_schema_behind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = run(["serve"], {"DIRECTORY_DATABASE_URL": url})
    assert result.returncode == 2 and "DIRECTORY_SECRET_KEY is not set" in result.stderr
    result = run(["serve"], {"DIRECTORY_DATABASE_URL": url, "DIRECTORY_SECRET_KEY": "k" * 40})
    assert result.returncode == 2
    assert "schema is behind" in result.stderr and "aid-directory migrate" in result.stderr


def test_serve_refuses_a_port_in_use(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import socket

    url = f"sqlite:///{tmp_path / 'x.db'}"
    upgrade(url)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(
            ["serve", "--port", str(port)],
            {"DIRECTORY_DATABASE_URL": url, "DIRECTORY_SECRET_KEY": "k" * 40},
        )
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr
