"""The models and the migrations agree, and upgrade → downgrade → upgrade works on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from directory.db import make_engine
from directory.migrate import downgrade, head_revision, upgrade
from directory.models import metadata
from tests.conftest import BACKENDS, PG_URL


@pytest.fixture(params=BACKENDS)
def scratch_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty database of each backend, apart from the one the other tests use."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        conn.execute(text("CREATE SCHEMA migration_check"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3Dmigration_check"
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
    admin.dispose()


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # As migrations/env.py: full-text tables and indexes are raw SQL, not models.
    if type_ == "table" and name and (name.startswith("service_fts") or name.startswith("sqlite_")):
        return False
    return not (type_ == "index" and name and name.startswith("ix_service_search_pg_"))


def test_models_and_migrations_agree(scratch_url: str) -> None:
    upgrade(scratch_url)
    engine = make_engine(scratch_url)
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_object": _include_object}
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), metadata)
    engine.dispose()
    assert diff == [], f"autogenerate finds changes not in a migration: {diff}"


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    upgrade(scratch_url)
    downgrade(scratch_url, "base")
    engine = make_engine(scratch_url)
    leftover = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert leftover == set()
    upgrade(scratch_url)
    engine = make_engine(scratch_url)
    with engine.connect() as conn:
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        locales = conn.execute(text("SELECT count(*) FROM locale")).scalar()
    engine.dispose()
    assert rev == head_revision()
    assert locales and locales >= 6


def test_closure_reason_labels_become_codes_and_back(scratch_url: str) -> None:
    """8b3f1c2d4e67: a reason stored as the English label of a one-tap choice becomes its code
    (read in every language); own words stay text; downgrade writes the label back."""
    import uuid

    import sqlalchemy as sa

    upgrade(scratch_url, "8e4a2f6b1c37")
    engine = make_engine(scratch_url)
    org, one, two = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    common = {
        "description": "",
        "source_locale": "uk",
        "is_demo": False,
        "version": 1,
        "created_at": sa.func.current_timestamp(),
        "updated_at": sa.func.current_timestamp(),
    }
    cols = ["id", "name", *common]
    organization = sa.table(
        "organization", *(sa.column(c, sa.Uuid() if c == "id" else None) for c in cols)
    )
    service = sa.table(
        "service",
        *(
            sa.column(c, sa.Uuid() if c.endswith("id") else None)
            for c in [*cols, "organization_id", "status", "status_reason", "audience"]
        ),
    )
    with engine.begin() as conn:
        conn.execute(organization.insert().values(id=org, name="Org", **common))
        for sid, reason in ((one, "Power cut"), (two, "Прорвало трубу")):
            conn.execute(
                service.insert().values(
                    id=sid,
                    organization_id=org,
                    name="S",
                    status="temporarily closed",
                    status_reason=reason,
                    audience="",
                    **common,
                )
            )
    engine.dispose()

    def rows() -> dict[uuid.UUID, tuple[str | None, str | None]]:
        eng = make_engine(scratch_url)
        with eng.connect() as conn:
            has_code = "status_reason_code" in {
                c["name"] for c in inspect(conn).get_columns("service")
            }
            table = sa.table(
                "service",
                sa.column("id", sa.Uuid()),
                sa.column("status_reason"),
                *([sa.column("status_reason_code")] if has_code else []),
            )
            out = {r[0]: (r[1], r[2] if has_code else None) for r in conn.execute(sa.select(table))}
        eng.dispose()
        return out

    upgrade(scratch_url)
    assert rows() == {one: (None, "power"), two: ("Прорвало трубу", None)}
    downgrade(scratch_url, "8e4a2f6b1c37")
    assert rows() == {one: ("Power cut", None), two: ("Прорвало трубу", None)}


def test_the_quick_schema_check_agrees_with_alembic(scratch_url: str) -> None:
    """`schema_head` (read-only commands' check, without Alembic) finds Alembic's head, says
    no for an empty or older database and yes only at the head."""
    from directory.schema_head import schema_is_current, script_head

    assert script_head() == head_revision()
    engine = make_engine(scratch_url)
    try:
        assert not schema_is_current(engine)  # empty: no alembic_version
        upgrade(scratch_url, "7c1d5e2a9b40")
        assert not schema_is_current(engine)
        upgrade(scratch_url)
        assert schema_is_current(engine)
    finally:
        engine.dispose()
