"""The demo's accounts: created by `aid-directory demo` only, usable without a phone in a demo,
refused by `aid-directory check` anywhere else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from directory.accounts import service as accounts
from directory.accounts.models import Account, Role
from directory.app import create_app
from directory.cli import main
from directory.config import Settings
from directory.demo.accounts import DEMO_ACCOUNTS, demo_accounts_in, ensure_demo_accounts
from directory.deps import get_session
from directory.listings import models as m
from directory.migrate import upgrade
from tests.manage.conftest import csrf_of


def _client(db: Session, db_url: str, engine: Engine, *, demo: bool) -> Iterator[TestClient]:
    app = create_app(
        Settings(database_url=db_url, secret_key="test-secret-key-" + "x" * 32, demo=demo),
        engine=engine,
    )

    def _session() -> Iterator[Session]:
        yield db
        db.commit()

    app.dependency_overrides[get_session] = _session
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture()
def demo_client(db: Session, db_url: str, engine: Engine) -> Iterator[TestClient]:
    yield from _client(db, db_url, engine, demo=True)


@pytest.fixture()
def real_client(db: Session, db_url: str, engine: Engine) -> Iterator[TestClient]:
    yield from _client(db, db_url, engine, demo=False)


def _sign_in(client: TestClient, email: str, password: str, locale: str = "uk"):  # type: ignore[no-untyped-def]
    page = client.get(f"/{locale}/manage/login")
    return client.post(
        f"/{locale}/manage/login",
        follow_redirects=False,
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    )


def test_the_demo_accounts_and_their_regions(db: Session) -> None:
    ensure_demo_accounts(db)
    ensure_demo_accounts(db)  # idempotent
    rows = {
        a.email: a
        for a in db.scalars(
            select(Account)
            .where(Account.email.like("%@demo.invalid"))
            .options(selectinload(Account.regions))
        )
    }
    assert sorted(rows) == sorted(a.email for a in DEMO_ACCOUNTS)
    volunteer, moderator, admin, kyiv_volunteer = (rows[a.email] for a in DEMO_ACCOUNTS)

    def codes(account: Account) -> set[str]:
        return {db.get(m.Place, r.place_id).code for r in account.regions}

    assert volunteer.role == Role.volunteer and codes(volunteer) == {"lviv"}
    assert moderator.role == Role.moderator and codes(moderator) == {"UA-30", "UA-32"}
    assert admin.role == Role.admin and codes(admin) == set()
    assert kyiv_volunteer.role == Role.volunteer and codes(kyiv_volunteer) == {"UA-30", "UA-32"}
    for demo in DEMO_ACCOUNTS:  # the published passwords are the real ones
        assert accounts.verify_password(rows[demo.email].password_hash, demo.password)
    assert demo_accounts_in(db) == sorted(rows)


def test_in_a_demo_every_demo_account_signs_in_without_a_phone(
    demo_client: TestClient, db: Session
) -> None:
    ensure_demo_accounts(db)
    for demo in DEMO_ACCOUNTS:
        demo_client.cookies.clear()
        r = _sign_in(demo_client, demo.email, demo.password)
        assert r.status_code == 303 and "login/" not in r.headers["location"], (
            demo.email,
            r.headers,
        )
        home = demo_client.get(r.headers["location"])
        assert home.status_code == 200, demo.email
        assert 'name="email"' not in home.text  # signed in, not the login form again
    # the moderator reaches the moderation queue (moderators only)
    demo_client.cookies.clear()
    _sign_in(demo_client, "moderator@demo.invalid", "demo-moderator")
    assert demo_client.get("/uk/manage/queue").status_code == 200


def test_outside_a_demo_they_need_the_second_factor_like_anyone(
    real_client: TestClient, db: Session
) -> None:
    ensure_demo_accounts(db)
    r = _sign_in(real_client, "moderator@demo.invalid", "demo-moderator")
    assert r.status_code == 303 and r.headers["location"].endswith("/manage/login/enrol")
    # and in a demo, a moderator who is not a demo account still enrols TOTP
    other = accounts.create_account(
        db, email="real.moderator@example.org", password="a real passphrase", role=Role.moderator
    )
    assert accounts.needs_second_factor(other, demo=True)


def test_check_reports_demo_accounts_outside_a_demo_and_load_demo_adds_them_only_when_asked(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    upgrade(url)
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", url)
    monkeypatch.setenv("DIRECTORY_SECRET_KEY", "k7Fq2-x9ZpLm4Rt8Vw1Yb6Nc3Hd0Js5Ga" * 2)
    monkeypatch.delenv("DIRECTORY_DEMO", raising=False)
    runner = CliRunner()
    loaded = runner.invoke(main, ["load-demo"])
    assert loaded.exit_code == 0, loaded.output
    clean = runner.invoke(main, ["check", "--no-deploy"])
    assert clean.exit_code == 0 and "E030" not in clean.output, clean.output

    asked = runner.invoke(main, ["load-demo", "--demo-accounts"])
    assert (
        asked.exit_code == 0
        and "moderator@demo.invalid" in asked.output
        and "Warning" in asked.output
    )
    flagged = runner.invoke(main, ["check", "--no-deploy"])
    assert flagged.exit_code == 1, flagged.output
    assert "directory.E030 ERROR" in flagged.output and "admin@demo.invalid" in flagged.output
    full = runner.invoke(main, ["check"])
    assert "directory.E030" in full.output

    monkeypatch.setenv("DIRECTORY_DEMO", "true")  # the same database run as a demo: fine
    assert "E030" not in runner.invoke(main, ["check", "--no-deploy"]).output


def test_the_demo_moderator_finds_proposals_waiting(db) -> None:  # type: ignore[no-untyped-def]
    """A person trying the demo cold signs in as the Kyiv moderator and has something to review."""
    from sqlalchemy import select

    from directory.demo.accounts import ensure_demo_accounts
    from directory.demo.loader import load_demo
    from directory.demo.proposals import ensure_demo_proposals
    from directory.moderation.models import ChangeRequest, ChangeState

    load_demo(db)
    ensure_demo_accounts(db)
    assert ensure_demo_proposals(db) == 3
    waiting = db.scalars(select(ChangeRequest).where(ChangeRequest.state == ChangeState.pending))
    assert sorted(cr.kind for cr in waiting) == ["capacity", "update"]
    assert ensure_demo_proposals(db) == 0  # once only
