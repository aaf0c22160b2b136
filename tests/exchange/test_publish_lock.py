"""Issue 18, "Also": `import --apply --publish` holds the database for writing only while it
publishes. Checking and staging run in a read transaction, so a web/API write during the check
succeeds; a write that must wait for the publish and times out gets a 503 that says an import
holds the database, with Retry-After; and the import stays all or nothing when the publish fails
halfway or a record changed since the check. On a fresh SQLite file and a PostgreSQL scratch
schema (committed data, several connections)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from directory import writelock
from directory.accounts.models import Account
from directory.app import create_app
from directory.config import Settings
from directory.db import Timeouts, make_engine, make_sessionmaker
from directory.exchange import importer
from directory.exchange.bulk_import import BulkImport
from directory.exchange.exporters import export
from directory.exchange.importer import publish_import
from directory.exchange.records import ExportOptions
from directory.listings import models as m
from directory.moderation.models import AuditEntry, ChangeRequest
from tests.exchange.data import make_dataset
from tests.factories import make_account, make_token
from tests.scratch import scratch_database  # noqa: F401 (a fixture)

NEW_NAME = "Hot soup pl"


@pytest.fixture()
def seeded(scratch_database: str, tmp_path: Path) -> Iterator[dict[str, Any]]:  # noqa: F811
    """A directory with a few listings, an admin, a moderator's token, and an import file that
    renames one listing (`exact`)."""
    engine = make_engine(scratch_database)
    with make_sessionmaker(engine)() as db:
        ds = make_dataset(db, tag="pl")
        admin = make_account(db, "admin")
        moderator = make_account(db, "moderator")
        token = make_token(db, moderator)
        db.flush()
        services = json.loads(
            b"".join(export(db, "hsds-json", ExportOptions(include_confidential=True)))
        )
        db.commit()
        exact, old_name = ds.exact.id, ds.exact.name
        admin_id = admin.id
    item = next(s for s in services if s["id"] == str(exact))
    item["name"] = NEW_NAME
    path = tmp_path / "listings.json"
    path.write_text("[\n" + ",\n".join(json.dumps(s) for s in services) + "\n]\n")
    try:
        yield {
            "url": scratch_database,
            "engine": engine,
            "path": path,
            "exact": exact,
            "old_name": old_name,
            "admin": admin_id,
            "token": token,
            "services": len(services),
        }
    finally:
        engine.dispose()


def _name(engine: Engine, service_id: uuid.UUID) -> str:
    with make_sessionmaker(engine)() as db:
        return db.scalars(select(m.Service.name).where(m.Service.id == service_id)).one()


def _counts(engine: Engine) -> tuple[int, ...]:
    with make_sessionmaker(engine)() as db:
        return tuple(
            db.scalar(select(func.count()).select_from(model)) or 0
            for model in (m.Service, ChangeRequest, AuditEntry, m.ServiceSearch)
        )


def _publish(seed: dict[str, Any], **kwargs: Any) -> importer.Report:
    return publish_import(
        make_sessionmaker(seed["engine"]),
        seed["path"],
        fmt="hsds-json",
        actor_id=seed["admin"],
        **kwargs,
    )


def test_a_write_during_the_check_succeeds(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH", 1)  # several batches: the check takes a while
    # Another writer, as the served app would be: it waits at most a second for the lock.
    other = make_engine(seeded["url"], timeouts=Timeouts(lock=1.0, statement=5.0))
    written: list[int] = []

    def during_check(_n: int) -> None:
        if not written:  # the first batch is checked; the import holds no write lock
            with other.begin() as conn:
                done = conn.execute(
                    text(
                        "UPDATE account SET display_name = 'Checked meanwhile' "
                        "WHERE email LIKE 'moderator%'"
                    )
                )
                written.append(done.rowcount)

    try:
        report = _publish(seeded, progress=during_check)
    finally:
        other.dispose()
    assert written and written[0] >= 1
    assert report.ok and report.applied and report.published, [str(e) for e in report.errors]
    assert _name(seeded["engine"], seeded["exact"]) == NEW_NAME
    with make_sessionmaker(seeded["engine"])() as db:
        assert (
            db.scalar(
                select(func.count())
                .select_from(Account)
                .where(Account.display_name == "Checked meanwhile")
            )
            >= 1
        )
    assert writelock.current(seeded["engine"]) is None  # the notice is withdrawn


def test_a_write_during_the_publish_is_told_an_import_holds_the_lock(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The served app, waiting at most half a second for a lock.
    settings = Settings(database_url=seeded["url"], secret_key="p" * 40, db_lock_timeout=0.5)
    app = create_app(settings)
    answers: list[Any] = []
    finish = BulkImport.finish

    def finish_then_write(self: BulkImport) -> None:
        finish(self)  # everything written, not yet committed: the publish holds its locks
        with TestClient(app) as client:
            headers = {"Authorization": f"Bearer {seeded['token']}", "If-Match": '"1"'}
            answers.append(
                client.patch(
                    f"/api/v1/services/{seeded['exact']}",
                    json={"name": "Edited meanwhile"},
                    headers=headers,
                )
            )

    monkeypatch.setattr(BulkImport, "finish", finish_then_write)
    try:
        report = _publish(seeded)
    finally:
        app.state.engine.dispose()
    assert report.ok and report.applied, [str(e) for e in report.errors]
    api = answers[0]
    assert api.status_code == 503, api.text
    assert api.headers["content-type"] == "application/problem+json"
    assert "An import is publishing its changes" in api.json()["detail"]
    assert api.headers["retry-after"].isdigit() and 1 <= int(api.headers["retry-after"]) <= 300
    assert _name(seeded["engine"], seeded["exact"]) == NEW_NAME  # the import's, not the PATCH's


def test_the_import_page_for_a_blocked_web_change_is_localised(seeded: dict[str, Any]) -> None:
    """The HTML answer to a change that timed out behind an import (rendered like the handler
    does), in each locale."""
    from directory import i18n

    settings = Settings(database_url=seeded["url"], secret_key="p" * 40, db_lock_timeout=0.5)
    app = create_app(settings)
    engine = seeded["engine"]

    @app.post("/{locale}/_test/locked")
    def locked(locale: str) -> None:
        from sqlalchemy.exc import OperationalError

        raise OperationalError("UPDATE service", {}, Exception("database is locked"))

    app.router.routes.insert(0, app.router.routes.pop())
    writelock.announce(engine, what="import", seconds=40)
    try:
        with TestClient(app) as client:
            for locale in ("en", "uk", "ar"):
                page = client.post(f"/{locale}/_test/locked")
                assert page.status_code == 503 and page.headers["retry-after"].isdigit()
                assert page.headers["content-type"].startswith("text/html")
                with i18n.use_locale(locale):
                    said = i18n.gettext(
                        "An import of listings is being published right now and "
                        "holds the database for writing. Nothing you sent was "
                        "saved: please try again in a moment."
                    )
                assert said in page.text and (locale == "en" or "An import" not in said)
                assert f'lang="{locale}"' in page.text
            writelock.withdraw(engine)
            busy = client.post("/uk/_test/locked")
            assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
            with i18n.use_locale("uk"):
                assert (
                    i18n.gettext(
                        "The directory is busy saving other changes. Nothing you sent "
                        "was saved: please try again in a few seconds."
                    )
                    in busy.text
                )
    finally:
        writelock.withdraw(engine)
        app.state.engine.dispose()


@pytest.mark.parametrize("fault", ["crash", "changed meanwhile"])
def test_all_or_nothing_when_the_publish_fails(
    seeded: dict[str, Any], monkeypatch: pytest.MonkeyPatch, fault: str
) -> None:
    monkeypatch.setattr(importer, "BATCH", 1)  # several batches: the first are written first
    engine = seeded["engine"]
    before = _counts(engine)
    if fault == "crash":
        apply = BulkImport.apply
        calls: list[int] = []

        def apply_then_crash(self: BulkImport, bundles: list[Any]) -> None:
            calls.append(1)
            if len(calls) == 2:
                raise RuntimeError("disk full")
            apply(self, bundles)

        monkeypatch.setattr(BulkImport, "apply", apply_then_crash)
        with pytest.raises(RuntimeError, match="disk full"):
            _publish(seeded)
        assert len(calls) == 2
    else:
        # Someone changes the listing after the import checked it: the publish refuses it all.
        checked: list[int] = []

        def change_after_check(n: int) -> None:
            checked.append(n)
            if len(checked) < seeded["services"]:
                return  # the last batch is compared: now it changes
            with Session(engine) as db, db.begin():
                svc = db.get(m.Service, seeded["exact"])
                assert svc is not None
                if svc.version == 1:
                    svc.description = "Changed by a volunteer meanwhile"

        report = _publish(seeded, progress=change_after_check)
        assert not report.ok and not report.applied
        assert any("changed since version 1" in e.reason for e in report.errors), report.errors
    assert _name(engine, seeded["exact"]) == seeded["old_name"]
    assert _counts(engine) == before  # no service, change request, audit entry or search row
    assert writelock.current(engine) is None
