"""A process killed (SIGKILL) in the middle of a real import or a batch of approvals leaves the
database exactly as it was: same rows, same versions, same audit log. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, make_url, text

from directory.db import make_engine, make_sessionmaker, session_scope
from directory.migrate import upgrade
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
TABLES = (
    "organization",
    "service",
    "location",
    "address",
    "phone",
    "schedule",
    "service_at_location",
    "change_request",
    "audit_entry",
    "service_search",
    "translation",
)


def _fingerprint(url: str) -> dict[str, str]:
    """Per table: row count and a hash of every row (ids, versions, all columns)."""
    engine = make_engine(url)
    out = {}
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
            for table in TABLES:
                if table not in present:
                    continue
                rows = conn.execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608
                digest = hashlib.sha256(
                    "\n".join(sorted(repr(tuple(r)) for r in rows)).encode()
                ).hexdigest()
                out[table] = f"{len(rows)}:{digest[:16]}"
    finally:
        engine.dispose()
    return out


SCRATCH_SCHEMA = "ops_killed"


@pytest.fixture()
def db_for(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """A fresh database per backend. PostgreSQL: a scratch schema of the test database, reached
    through search_path, so the suite's own schema (shared by the other tests) is not touched."""
    used: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / 'killed.db'}"
        if not PG_URL:
            pytest.skip("PostgreSQL not configured (DIRECTORY_TEST_DATABASE_URL)")
        _scratch_schema(create=True)
        used.append(backend)
        # Migrate with the scratch schema alone on the path (else Alembic would find the suite's
        # alembic_version in public), then run with public behind it for the extensions.
        upgrade(_with_path(SCRATCH_SCHEMA))
        return _with_path(f"{SCRATCH_SCHEMA},public")

    yield make
    if used:
        _scratch_schema(create=False)


def _with_path(path: str) -> str:
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={path}"})
    return url.render_as_string(hide_password=False)


def _scratch_schema(*, create: bool) -> None:
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCRATCH_SCHEMA} CASCADE"))
        if create:
            conn.execute(text(f"CREATE SCHEMA {SCRATCH_SCHEMA}"))
    engine.dispose()


def _run_until(script: str, *args: str, marker: str) -> None:
    """Run `script` in a child process, wait for `marker` on its stdout, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline().strip()
        if line != marker:
            proc.kill()
            raise AssertionError(f"child said {line!r}; stderr: {proc.communicate()[1][-2000:]}")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL


SETUP = textwrap.dedent(
    """
    from directory.accounts.service import create_account
    from directory.demo.loader import load_demo
    def setup(session):
        load_demo(session)
        admin = create_account(session, email="admin@example.org", password="x" * 20, role="admin")
        volunteer = create_account(session, email="vol@example.org", password="x" * 20,
                                   role="volunteer")
        return admin, volunteer
    """
)

IMPORT_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from sqlalchemy import func, select
    from directory.accounts.models import Account
    from directory.db import make_engine, make_sessionmaker, session_scope
    from directory.exchange.importer import run_import
    from directory.listings.models import Organization
    engine = make_engine(sys.argv[1])
    with session_scope(make_sessionmaker(engine)) as session:
        admin = session.execute(select(Account).where(Account.role == "admin")).scalar_one()
        before = session.execute(select(func.count()).select_from(Organization)).scalar_one()
        def progress(_n):
            now = session.execute(select(func.count()).select_from(Organization)).scalar_one()
            if now > before:  # the import's rows are flushed inside the open transaction
                print("mid-import", flush=True)
                sys.stdin.read()  # wait to be killed
        run_import(session, Path(sys.argv[2]), fmt="hsds-json", source="killtest", apply=True,
                   publish=True, actor=admin, progress=progress)
        print("finished without being killed", flush=True)
    """
)

APPROVE_CHILD = textwrap.dedent(
    """
    import sys
    from sqlalchemy import select
    from directory.accounts.models import Account
    from directory.db import make_engine, make_sessionmaker, session_scope
    from directory.moderation.models import ChangeRequest
    from directory.moderation.service import approve
    engine = make_engine(sys.argv[1])
    with session_scope(make_sessionmaker(engine)) as session:
        admin = session.execute(select(Account).where(Account.role == "admin")).scalar_one()
        pending = session.execute(select(ChangeRequest.id).where(
            ChangeRequest.state == "pending")).scalars().all()
        for i, change_id in enumerate(pending):
            approve(session, change_id=change_id, reviewer=admin)
            if i == len(pending) // 2:
                session.flush()
                print("mid-approvals", flush=True)
                sys.stdin.read()
        print("finished without being killed", flush=True)
    """
)


def _hsds_file(tmp_path: Path) -> Path:
    """The demo dataset, exported as HSDS JSON (with confidential places: an admin's export)."""
    from directory.demo.loader import load_demo
    from directory.exchange.exporters import export
    from directory.exchange.records import ExportOptions

    url = f"sqlite:///{tmp_path / 'source.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        load_demo(session)
    with session_scope(make_sessionmaker(engine)) as session:
        data = b"".join(export(session, "hsds-json", ExportOptions(include_confidential=True)))
    engine.dispose()
    services = json.loads(data)
    assert len(services) >= 40
    path = tmp_path / "import.json"
    path.write_text(json.dumps(services[:40]))  # a few dozen: the kill comes after they are written
    return path


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_mid_import_leaves_database_unchanged(
    tmp_path: Path, backend: str, db_for: Callable[[str], str]
) -> None:
    source = _hsds_file(tmp_path)
    url = db_for(backend)
    upgrade(url)
    engine = make_engine(url)
    from directory.accounts.service import create_account
    from directory.listings.places import ensure_places
    from directory.listings.taxonomy import ensure_taxonomy

    with session_scope(make_sessionmaker(engine)) as session:
        ensure_taxonomy(session)
        ensure_places(session)
        create_account(session, email="admin@example.org", password="x" * 20, role="admin")
    engine.dispose()
    before = _fingerprint(url)
    _run_until(IMPORT_CHILD, url, str(source), marker="mid-import")
    assert _fingerprint(url) == before


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_mid_approvals_leaves_database_unchanged(
    backend: str, db_for: Callable[[str], str]
) -> None:
    from sqlalchemy import select

    from directory.listings.models import Service
    from directory.moderation.service import propose

    url = db_for(backend)
    upgrade(url)
    engine = make_engine(url)
    namespace: dict[str, object] = {}
    exec(SETUP, namespace)  # noqa: S102
    with session_scope(make_sessionmaker(engine)) as session:
        _admin, volunteer = namespace["setup"](session)  # type: ignore[operator]
        services = session.execute(select(Service).order_by(Service.id).limit(20)).scalars().all()
        for svc in services:
            propose(
                session,
                actor=volunteer,
                entity_type="service",
                kind="update",
                entity_id=svc.id,
                changes={"description": f"Updated {svc.name}"},
                base_version=svc.version,
            )
    engine.dispose()
    before = _fingerprint(url)
    assert before["change_request"].startswith("20:")
    _run_until(APPROVE_CHILD, url, marker="mid-approvals")
    assert _fingerprint(url) == before
