"""`aid-directory user ...` and `aid-directory token ...` on a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from directory.cli import main
from directory.migrate import upgrade


@pytest.fixture()
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    return CliRunner()


def test_user_and_token_lifecycle(cli: CliRunner) -> None:
    r = cli.invoke(
        main,
        [
            "user",
            "create",
            "--email",
            "Taras@Example.org",
            "--role",
            "moderator",
            "--name",
            "Taras",
            "--password-stdin",
        ],
        input="a long password 123\n",
    )
    assert r.exit_code == 0, r.output
    assert "moderator taras@example.org" in r.output
    r = cli.invoke(
        main,
        ["user", "create", "--email", "taras@example.org", "--password-stdin"],
        input="a long password 123\n",
    )
    assert r.exit_code == 2 and "exists" in r.output
    r = cli.invoke(main, ["token", "create", "--email", "taras@example.org", "--expires-days", "7"])
    assert r.exit_code == 0, r.output
    secret = r.output.splitlines()[0]
    assert secret.startswith("aid_") and len(secret) > 40
    r = cli.invoke(main, ["token", "list"])
    assert secret[:12] in r.output and secret not in r.output
    r = cli.invoke(main, ["token", "revoke", secret[:12]])
    assert r.exit_code == 0 and "Revoked" in r.output
    r = cli.invoke(main, ["user", "disable", "taras@example.org"])
    assert r.exit_code == 0
    assert "disabled" in cli.invoke(main, ["user", "list"]).output


def test_bad_input_is_one_line_not_a_traceback(cli: CliRunner) -> None:
    r = cli.invoke(
        main, ["user", "create", "--email", "x@example.org", "--password-stdin"], input="short\n"
    )
    assert r.exit_code == 2 and "password" in r.output and "Traceback" not in r.output
    r = cli.invoke(main, ["token", "create", "--email", "nobody@example.org"])
    assert r.exit_code == 2 and "no such account" in r.output
    r = cli.invoke(
        main,
        ["user", "create", "--email", "y@example.org", "--region", "XX-99", "--password-stdin"],
        input="a long password 123\n",
    )
    assert r.exit_code == 2 and "unknown region" in r.output
