"""PgBouncer in transaction pooling mode (issue 16): the suite's PostgreSQL smoke tests run through
a PgBouncer (Debian's package) started by this test in front of the machine's PostgreSQL, with
`DIRECTORY_DATABASE_POOLER=pgbouncer` as docs/deploying.md tells operators to set it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, make_url, text

from bench.net import free_port
from tests.conftest import PG_URL, REQUIRE_PG, ROOT

pytestmark = pytest.mark.postgres

PGBOUNCER = shutil.which("pgbouncer") or (
    "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
)
#: The smoke tests: the app's pages, the public API (reads and writes), search and moderation.
SMOKE = [
    "tests/test_app.py",
    "tests/api/test_flow.py",
    "tests/api/test_concurrency.py",
    "tests/web/test_pages.py",
    "tests/moderation/test_service.py",
]


@pytest.fixture()
def bouncer() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
    if PGBOUNCER is None:
        if REQUIRE_PG:
            pytest.fail("pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)")
        pytest.skip("pgbouncer not installed")
    base = make_url(PG_URL)
    name = f"{base.database}_bouncer"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    root = Path(tempfile.mkdtemp(prefix="aid-bouncer-"))
    port = free_port()
    ini = root / "pgbouncer.ini"
    ini.write_text(
        f"""[databases]
{name} = host={base.host or "127.0.0.1"} port={base.port or 5432} dbname={name} \
    user={base.username or "postgres"}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
server_reset_query =
pidfile = {root}/pgbouncer.pid
logfile = {root}/pgbouncer.log
""",
        encoding="utf-8",
    )
    cmd = [PGBOUNCER, "-d", str(ini)]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, timeout=30, capture_output=True, cwd="/")
    try:
        deadline = time.monotonic() + 20
        while True:  # the daemon is listening within milliseconds; bounded wait
            try:
                psycopg.connect(
                    host="127.0.0.1", port=port, user="postgres", dbname=name, connect_timeout=2
                ).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"
    finally:
        pid = (
            (root / "pgbouncer.pid").read_text().strip()
            if (root / "pgbouncer.pid").exists()
            else ""
        )
        if pid:
            os.kill(int(pid), signal.SIGINT)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(root, ignore_errors=True)


def test_postgresql_smoke_tests_pass_through_pgbouncer_in_transaction_mode(bouncer: str) -> None:
    env = {
        # not an xdist worker's variables: the inner run would take its database for a worker's
        # and look for "<name>_gw0", which PgBouncer does not know ("bouncer config error")
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")},
        "DIRECTORY_TEST_DATABASE_URL": bouncer,
        "DIRECTORY_DATABASE_POOLER": "pgbouncer",
        "DIRECTORY_REQUIRE_POSTGRES": "1",
        "DIRECTORY_REQUIRE_BROWSER": "0",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "postgresql",
            *SMOKE,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    tail = result.stdout[-3000:]
    assert result.returncode == 0, tail + result.stderr[-2000:]
    passed = re.search(r"(\d+) passed", tail)
    assert passed and int(passed.group(1)) >= 40 and " failed" not in tail, tail
    print(tail.splitlines()[-1])
