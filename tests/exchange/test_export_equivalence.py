"""The fast exporter (issue #16: plain dicts read straight from the driver, the taxonomy and
gazetteer looked up once, lines encoded by pydantic-core) writes exactly what the exporter
before it wrote: byte for byte the same HSDS JSON, the same service objects for every other
format. `legacy_records` is that exporter, kept as the reference."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from directory.demo.generate import generate
from directory.demo.loader import load_demo
from directory.exchange.hsds_json import encode_service, export_hsds_json
from directory.exchange.records import ExportOptions, iter_services
from directory.listings import models as m
from tests.exchange import legacy_records
from tests.exchange.data import make_dataset

OPTIONS = {
    "public": ExportOptions(),
    "admin": ExportOptions(include_confidential=True),
    "public-batches-of-7": ExportOptions(batch_size=7),
    "admin-batches-of-7": ExportOptions(include_confidential=True, batch_size=7),
    "no-demo": ExportOptions(include_demo=False),
}


def _legacy_json(db: Session, options: ExportOptions) -> bytes:
    lines = [
        json.dumps(s, ensure_ascii=False, separators=(",", ":"))
        for s in legacy_records.iter_services(db, options)  # type: ignore[arg-type]
    ]
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode() if lines else b"[\n\n]\n"


@pytest.fixture()
def varied(db: Session) -> Session:
    """Every kind of record the exporter reads: the test dataset (exact, approximate and
    confidential places, translations, schedules), the demo dataset, generated services; one
    place with a coordinate so close to 0 that Python writes it with an exponent."""
    load_demo(db)
    generate(db, services=40, seed=7)
    db.flush()
    make_dataset(db, tag="eq")
    db.flush()
    loc = db.query(m.Location).filter(m.Location.privacy == m.Privacy.exact).first()
    assert loc is not None
    db.execute(update(m.Location).where(m.Location.id == loc.id).values(longitude=0.00005))
    db.flush()
    db.expire_all()
    return db


@pytest.mark.parametrize("name", list(OPTIONS))
def test_export_is_byte_identical_to_the_exporter_before(varied: Session, name: str) -> None:
    options = OPTIONS[name]
    expected = _legacy_json(varied, options)
    got = b"".join(export_hsds_json(varied, options))
    assert got.count(b"\n") > (50 if options.include_demo else 1)
    assert got == expected


def test_every_format_gets_the_same_service_objects(varied: Session) -> None:
    for options in OPTIONS.values():
        new: list[dict[str, Any]] = list(iter_services(varied, options))
        old = list(legacy_records.iter_services(varied, options))  # type: ignore[arg-type]
        assert new == old


@pytest.mark.parametrize(
    "value",
    [0.00005, -0.00001, 1e-4, 0.0, -0.0, 48.488627, 1e16, 179.999999],
)
def test_a_line_is_encoded_as_the_standard_library_encodes_it(value: float) -> None:
    service = {
        "id": "x",
        "name": 'Пункт обігріву \u2028 "lapki" \\ \x01',
        "extension": 10**20,
        "service_at_locations": [{"location": {"latitude": value, "longitude": -value}}],
    }
    assert encode_service(service) == (
        json.dumps(service, ensure_ascii=False, separators=(",", ":")).encode()
    )


@pytest.mark.parametrize("parts", [("capacity", "a", "b"), ("area", 1, "Київ"), ("x",), ()])
def test_derived_ids_are_the_uuid5_they_always_were(parts: tuple[Any, ...]) -> None:
    from directory.exchange import hsds31

    name = "|".join(str(p) for p in parts)
    assert hsds31.derived_id(*parts) == str(uuid.uuid5(hsds31.NAMESPACE, name))


def test_translated_fields_come_in_name_order_whatever_the_rows_order(db: Session) -> None:
    """Two exports of the same data are the same bytes: a record's translated fields are sorted
    (in row order, PostgreSQL's parallel scans of a large table changed them between runs)."""
    from directory.exchange.records import _translations
    from tests.factories import make_service, translate

    service = make_service(db, name="Order of translated fields")
    translate(db, service, "name", "uk", "Порядок")  # rows: name first, then description
    translate(db, service, "description", "uk", "Опис")
    translate(db, service, "description", "ar", "وصف")
    texts = _translations(db, [service.id])[str(service.id)]
    assert list(texts) == ["description", "name"]
    assert list(texts["description"]) == ["ar", "uk"]
