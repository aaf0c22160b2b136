"""Scenario 5: Taras, moderator for Kyiv region, clears a queue of twenty mixed proposals by
reading diffs (human labels and names, never raw JSON), from the manage pages alone."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy.orm import Session

from directory.moderation import service as moderation
from directory.moderation.models import ChangeRequest, ChangeState
from tests.factories import make_account, make_listing, make_place
from tests.manage.conftest import csrf_of, sign_in

RAW_JSON = re.compile(r'[{\[]\s*"|"\s*:\s*["\d\[{tfn]|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-')


def test_moderator_clears_twenty_mixed_proposals(client, db: Session) -> None:
    kyiv = make_place(db, name="Kyiv Oblast")
    volunteers = [make_account(db, "volunteer", regions=[kyiv]) for _ in range(3)]
    listings = [
        make_listing(
            db, region=kyiv, name=f"Shelter {n}", capacity_maximum=50, capacity_available=5
        )
        for n in range(8)
    ]
    svc0, loc0 = listings[0]
    proposals = []
    for n, (svc, loc) in enumerate(listings):  # 8 capacity updates
        proposals.append(
            moderation.propose(
                db,
                actor=volunteers[n % 3],
                entity_type="location",
                kind="capacity",
                entity_id=loc.id,
                changes={"capacity_available": 10 + n},
            )
        )
    for n, (svc, _) in enumerate(listings[:6]):  # 6 status changes
        proposals.append(
            moderation.propose(
                db,
                actor=volunteers[n % 3],
                entity_type="service",
                kind="status",
                entity_id=svc.id,
                changes={"status": "full"},
            )
        )
    for n, (svc, _) in enumerate(listings[:3]):  # 3 text edits with a translation
        proposals.append(
            moderation.propose(
                db,
                actor=volunteers[0],
                entity_type="service",
                kind="update",
                entity_id=svc.id,
                changes={"description": f"Warm, dry, {n} floors down"},
                translations={"name": {"uk": f"Укриття {n}"}},
            )
        )
    from directory.listings.models import Phone

    phone = db.query(Phone).filter_by(location_id=loc0.id).one()
    proposals.append(
        moderation.propose(  # the phone number change: the fraud guard holds it
            db,
            actor=volunteers[1],
            entity_type="phone",
            kind="update",
            entity_id=phone.id,
            changes={"number": "+380441110000"},
        )
    )
    proposals.append(
        moderation.propose(  # a new shelter
            db,
            actor=volunteers[2],
            entity_type="service",
            kind="create",
            changes={
                "organization_id": str(svc0.organization_id),
                "name": "New basement shelter",
                "description": "Under school No. 5",
                "categories": [],
            },
        )
    )
    proposals.append(
        moderation.propose(  # a location edit with coordinates: sensitive too
            db,
            actor=volunteers[2],
            entity_type="location",
            kind="update",
            entity_id=loc0.id,
            changes={"latitude": "50.40", "longitude": "30.60"},
        )
    )
    assert len(proposals) == 20
    moderation.report(db, service_id=svc0.id, kind="locked", text="Found locked at night")

    taras = make_account(db, "moderator", regions=[kyiv])
    taras.totp_secret = pyotp.random_base32()
    db.flush()
    sign_in(client, taras.email, totp_secret=taras.totp_secret)
    queue = client.get("/en/manage/queue")
    assert "20 changes waiting" in queue.text
    assert "1 open report" in queue.text
    assert "Needs a second moderator: 2" in queue.text

    decided = 0
    url = f"/en/manage/queue/{proposals[0].id}"
    for _ in range(25):
        page = client.get(url)
        assert page.status_code == 200
        table = page.text.split('<table class="m-diff">', 1)[1].split("</table>", 1)[0]
        assert not RAW_JSON.search(table), table  # labels and names, not JSON or ids
        cr_id = url.rsplit("/", 1)[-1]
        cr = db.get(ChangeRequest, __import__("uuid").UUID(cr_id))
        if cr.kind == "update" and cr.entity_type == "service":
            r = client.post(
                f"{url}/reject",
                data={
                    "csrf_token": csrf_of(page.text),
                    "reason": "Please add where the entrance is",
                },
                follow_redirects=False,
            )
        else:
            # The listings move on as Taras approves (a capacity approval verifies the
            # service, the capacity and the coordinates of loc0 are separate proposals), but
            # no two proposals here touch the same field: none may end in the conflict view.
            r = client.post(
                f"{url}/approve", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
            )
        assert r.status_code == 303, r.text[:500]
        decided += 1
        location = r.headers["location"]
        if "/queue/" not in location.split("?")[0]:
            break  # back to the queue: nothing left
        url = location.split("?")[0]
    assert decided == 20
    states = [db.get(ChangeRequest, p.id).state for p in proposals]
    assert states.count(ChangeState.rejected) == 3
    assert states.count(ChangeState.approved) == 17
    db.refresh(loc0)
    # "Full", approved after the capacity update, leaves no free places (issue 12 §4).
    assert (loc0.capacity_available, str(loc0.latitude)[:5]) == (0, "50.40")
    for n, (svc, loc) in enumerate(listings):
        db.refresh(svc)
        db.refresh(loc)
        assert svc.status == ("full" if n < 6 else "active")
        assert loc.capacity_available == (0 if n < 6 else 10 + n)
        assert svc.assured_date is not None
    assert "Nothing waits for review" in client.get("/en/manage/queue").text


def test_moderator_reads_what_marking_full_does_to_free_places(client, db: Session) -> None:
    """Issue 12 §4: the diff of "full" shows the free places it empties, before approval and
    after; an applied change never reads "12 → unchanged"."""
    kyiv = make_place(db, name="Kyiv Oblast")
    svc, loc = make_listing(db, region=kyiv, capacity_maximum=40, capacity_available=12)
    maria = make_account(db, "volunteer", regions=[kyiv])
    cr = moderation.propose(
        db,
        actor=maria,
        entity_type="service",
        kind="status",
        entity_id=svc.id,
        changes={"status": "full"},
    )
    taras = make_account(db, "moderator", regions=[kyiv])
    taras.totp_secret = pyotp.random_base32()
    db.flush()
    sign_in(client, taras.email, totp_secret=taras.totp_secret)
    page = client.get(f"/uk/manage/queue/{cr.id}")
    table = page.text.split('<table class="m-diff">', 1)[1].split("</table>", 1)[0]
    assert "(випливає з цієї зміни)" in table  # "follows from this change"
    assert re.search(r'<td class="m-old"[^>]*>12</td><td class="m-new"[^>]*>0</td>', table)
    r = client.post(
        f"/uk/manage/queue/{cr.id}/approve",
        data={"csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.refresh(loc)
    assert loc.capacity_available == 0
    done = client.get(f"/uk/manage/queue/{cr.id}").text
    table = done.split('<table class="m-diff">', 1)[1].split("</table>", 1)[0]
    assert re.search(r'<td class="m-old"[^>]*>12</td><td class="m-new"[^>]*>0</td>', table)
    assert "без змін" not in table  # "unchanged"
