"""Our own OpenAPI document is exact: schemathesis (its command line, as anyone would run it)
with every check and every phase (coverage, fuzzing, stateful) against the running application
finds no failure, anonymously and with a volunteer's, a moderator's and an admin's token.

Bounded and repeatable: a few examples per operation (DIRECTORY_OPENAPI_EXAMPLES, default 3),
deterministic generation. The application runs in a thread over real HTTP with a throwaway
SQLite database of its own, so the generated writes land nowhere else. The statuses a
schema-valid request may answer besides the defaults, and why, are in schemathesis.toml next
to this file (docs/api.md "Checking the document")."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from directory.accounts import throttle
from directory.app import create_app
from directory.config import Settings
from directory.db import make_engine, make_sessionmaker
from directory.migrate import upgrade
from tests.factories import make_account, make_listing, make_place, make_token

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = int(os.environ.get("DIRECTORY_OPENAPI_EXAMPLES", "3"))
ROLES = ("anonymous", "volunteer", "moderator", "admin")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    # schemathesis sends far more than 20 invalid tokens in 15 minutes from one address (its
    # probes that authentication is enforced): the throttle would rightly answer those 429.
    patch = pytest.MonkeyPatch()
    patch.setattr(throttle, "TOKEN_ADDRESS", throttle.Rule("token:address", 1_000_000))
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'fuzz.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        region = make_place(db, name="Fuzz oblast")
        make_listing(db, region=region, name="Fuzz shelter")
        tokens = {
            role: make_token(db, make_account(db, role, [region] if role != "admin" else None))
            for role in ROLES[1:]
        }
        db.commit()
    app = create_app(Settings(database_url=url, secret_key="s" * 40), engine=engine)
    app.state.api.openapi()  # built once before the run (on a loaded machine it takes seconds)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the application did not start"
    try:
        yield f"http://127.0.0.1:{port}", tokens
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
        patch.undo()


def schemathesis_command(base: str, token: str | None) -> list[str]:
    """The command (docs/api.md shows the same one for a running server)."""
    cmd = [
        sys.executable,
        "-c",
        "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--no-color",
    ]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    return cmd


@pytest.mark.parametrize("role", ROLES)
def test_schemathesis_finds_no_failure(server: tuple[str, dict[str, str]], role: str) -> None:
    base, tokens = server
    run = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        schemathesis_command(base, tokens.get(role)),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    out = run.stdout + run.stderr
    summary = out[out.rfind("SUMMARY") :] if "SUMMARY" in out else out[-3000:]
    failures = re.search(r"(\d+) failures?\b", summary)
    print(f"\nschemathesis as {role}:\n{summary}")
    assert "Test Execution Error" not in out, out[-5000:]
    assert failures is None and run.returncode == 0, out[-15000:]
    assert re.search(r"Tested: +\d+", summary), summary
