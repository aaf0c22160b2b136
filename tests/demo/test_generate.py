"""The synthetic generator: deterministic, the requested size, realistic shape."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from directory.config import UI_LOCALES
from directory.db import utcnow
from directory.demo.generate import build_chunks, generate
from directory.errors import Conflict
from directory.listings import models as m
from directory.listings.taxonomy import CRISIS_TAXONOMY

NOW = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)


def _services(n: int, seed: int) -> list[dict[str, object]]:
    return [
        r for rows in build_chunks(services=n, seed=seed, now=NOW) for r in rows.rows[m.Service]
    ]


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = _services(60, 7), _services(60, 7), _services(60, 8)
    assert [(s["id"], s["name"], s["description"]) for s in a] == [
        (s["id"], s["name"], s["description"]) for s in b
    ]
    assert [s["id"] for s in a] != [s["id"] for s in c]


def test_shape_of_a_larger_sample() -> None:
    chunks = list(build_chunks(services=3000, seed=1, now=NOW))
    rows = {model: [r for c in chunks for r in c.rows[model]] for model in chunks[0].rows}
    services, locations = rows[m.Service], rows[m.Location]
    assert len(services) == len(locations) == 3000
    confidential = sum(loc["privacy"] == "confidential" for loc in locations) / 3000
    assert 0.015 < confidential < 0.05
    stale = sum(s["assured_date"] < NOW - dt.timedelta(days=30) for s in services) / 3000
    assert 0.15 < stale < 0.25
    assert {s["status"] for s in services} >= {"active", "temporarily closed", "full", "inactive"}
    locales = {s["source_locale"] for s in services} | {t["locale"] for t in rows[m.Translation]}
    assert locales == set(UI_LOCALES)
    terms = {a["taxonomy_term_id"] for a in rows[m.Attribute]}
    assert len(terms) == len(CRISIS_TAXONOMY)  # every leaf and every top-level category
    assert len({loc["place_id"] for loc in locations}) > 30
    assert any(loc["open_24_7"] for loc in locations) and rows[m.Schedule]
    assert all(s["is_demo"] for s in services) and all(o["is_demo"] for o in rows[m.Organization])


def test_generate_writes_n_services_and_refuses_the_same_seed_twice(db: Session) -> None:
    counts = generate(db, services=50, seed=11)
    assert counts["services"] == 50
    n = db.scalar(select(func.count()).select_from(m.Service).where(m.Service.is_demo.is_(True)))
    assert n == 50
    assert db.scalar(select(func.count()).select_from(m.ServiceSearch))  # reindexed
    first = db.scalars(select(m.Service).order_by(m.Service.name)).first()
    assert first is not None and first.assured_date is not None and first.assured_date <= utcnow()
    with pytest.raises(Conflict):
        generate(db, services=5, seed=11)


def test_generate_command_is_registered() -> None:
    from directory.cli import main

    result = CliRunner().invoke(main, ["generate", "--help"])
    assert result.exit_code == 0 and "--services" in result.output and "--seed" in result.output
