"""Admins manage accounts and tokens over the API; nobody else can."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import make_account, make_token


def test_admin_creates_account_and_token_which_then_works(client: TestClient, db: Session) -> None:
    admin = {"Authorization": f"Bearer {make_token(db, make_account(db, 'admin'))}"}
    db.commit()
    r = client.post(
        "/api/v1/admin/accounts",
        headers=admin,
        json={
            "email": "New.Volunteer@example.org",
            "password": "long enough password",
            "role": "volunteer",
            "display_name": "New",
        },
    )
    assert r.status_code == 201, r.text
    account = r.json()
    assert account["email"] == "new.volunteer@example.org" and "password" not in r.text
    r = client.post(
        f"/api/v1/admin/accounts/{account['id']}/tokens",
        headers=admin,
        json={"expires_days": 7, "scopes": ["write"]},
    )
    assert r.status_code == 201
    secret = r.json()["secret"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json()
    assert me["role"] == "volunteer" and me["scopes"] == ["read", "write"]
    listed = client.get(f"/api/v1/admin/accounts/{account['id']}/tokens", headers=admin).json()
    assert "secret" not in listed[0]
    # Disable (version-checked): the token stops working at once.
    r = client.patch(
        f"/api/v1/admin/accounts/{account['id']}", headers=admin, json={"disabled": True}
    )
    assert r.status_code == 428
    r = client.patch(
        f"/api/v1/admin/accounts/{account['id']}",
        json={"disabled": True},
        headers={**admin, "If-Match": f'"{account["version"]}"'},
    )
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )


def test_moderator_cannot_manage_accounts_or_enumerate_emails(
    client: TestClient, db: Session
) -> None:
    mod = {"Authorization": f"Bearer {make_token(db, make_account(db, 'moderator'))}"}
    db.commit()
    assert client.get("/api/v1/admin/accounts", headers=mod).status_code == 403
    r = client.post(
        "/api/v1/admin/accounts",
        headers=mod,
        json={"email": "x@example.org", "password": "long enough password"},
    )
    assert r.status_code == 403


def test_trusted_volunteer_publishes_when_admin_allows(client: TestClient, db: Session) -> None:
    from tests.factories import make_listing

    _, loc = make_listing(db)
    admin = {"Authorization": f"Bearer {make_token(db, make_account(db, 'admin'))}"}
    maria = {"Authorization": f"Bearer {make_token(db, make_account(db, trusted=True))}"}
    db.commit()
    r = client.patch(
        f"/api/v1/locations/{loc.id}/capacity",
        json={"available": 3},
        headers={**maria, "If-Match": '"1"'},
    )
    assert r.status_code == 202
    r = client.post(
        "/api/v1/admin/settings", json={"trusted_volunteers_publish": True}, headers=admin
    )
    assert r.status_code == 200
    r = client.patch(
        f"/api/v1/locations/{loc.id}/capacity",
        json={"available": 4},
        headers={**maria, "If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["needs_review"] is True and r.headers["ETag"] == '"2"'
    queue = client.get("/api/v1/moderation/queue", headers=admin).json()
    assert queue["counts"]["needs_review"] == 1
