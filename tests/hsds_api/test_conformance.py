"""Conformance: schemathesis against the OFFICIAL HSDS 3.1 OpenAPI document (vendored unchanged in
tests/data/hsds-schema/3.1/openapi.json) with our base URL `/hsds`, every built-in check, no
failure allowed — on SQLite and PostgreSQL, in-process.

How the run is set up, and why:
- The document's response schemas are `$ref`s to Open Referral's GitHub (branch `3.0`); they
  are resolved offline to the vendored HSDS 3.1 copies of the same files (we serve 3.1).
- Valid requests only (positive generation). The document declares no response but 200 —
  no 404, no 4xx for a malformed value — so for an invalid request `status_code_conformance`
  and `negative_data_rejection` cannot both pass, whatever a server answers. Bad parameters
  answering RFC 9457 problems are tested in test_api.py.
- `{id}` is a real record's id (the document promises 200 only for existing records).
- `modified_after` is typed `format: datetime`, a format JSON Schema does not define; we
  register it as RFC 3339 date-times (what the API reference means). `proximity` is a string
  of metres: a generated one that is no number is replaced by a number.
- `/service_at_locations/{id}`: the document says its answer is a `service.json` (an upstream
  slip: the operation returns a service_at_location); every other check runs there, and the
  answer is validated against `service_at_location.json` in test_api.py.
- The checks that need the coverage phase (405 with Allow for undocumented methods, Allow of
  OPTIONS) are asserted directly below for every path of the document.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from sqlalchemy.orm import Session

from tests.exchange import hsds
from tests.hsds_api.data import seed

OFFICIAL = hsds.SCHEMA_DIR_3_1 / "openapi.json"
REMOTE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
BASE = "http://testserver/hsds"
EXAMPLES = 6


def _inline(node: Any, base: Path) -> Any:
    """`node` with every `$ref` to Open Referral's schema files replaced by the vendored file."""
    if isinstance(node, list):
        return [_inline(x, base) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        name = ref.removeprefix(REMOTE)
        loaded = hsds.load(base / name)
        loaded = {k: v for k, v in loaded.items() if k not in ("$id", "$schema")}
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {**_inline(loaded, base), **_inline(rest, base)}
    return {k: _inline(v, base) for k, v in node.items()}


def official_document() -> dict[str, Any]:
    doc = json.loads(OFFICIAL.read_text(encoding="utf-8"))
    return _inline(doc, hsds.require_schema("3.1"))


def _rfc3339() -> st.SearchStrategy[str]:
    moments = st.datetimes(
        min_value=dt.datetime(1970, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC),
    )
    return moments.map(lambda d: d.isoformat().replace("+00:00", "Z"))


schemathesis.openapi.format("datetime", _rfc3339())


def _number(value: Any) -> bool:
    try:
        return float(value) >= 0
    except (TypeError, ValueError):
        return False


#: The schema file of the records each collection answers.
RECORDS = {
    "services": "service.json",
    "organizations": "organization.json",
    "service_at_locations": "service_at_location.json",
    "taxonomies": "taxonomy.json",
    "taxonomy_terms": "taxonomy_term.json",
}


def _each_record_valid(path: str, body: Any) -> None:
    """Every record of the answer, against HSDS 3.1 and (once declared) the strict profile."""
    from tests.hsds_api.test_api import check

    parts = path.strip("/").split("/")
    if not parts[0]:
        return
    name = RECORDS[parts[0]]
    for record in body["contents"] if len(parts) == 1 else [body]:
        check(record, name)


def _all_checks() -> list[Any]:
    load_all_checks()
    return list(CHECKS.get_all())


def _run(app: Any, ids: dict[str, str]) -> Counter[str]:
    schema = schemathesis.openapi.from_dict(official_document())
    schema.app = app
    checks = _all_checks()
    stats: Counter[str] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        stats["operations"] += 1
        path_ids = None
        if "{id}" in op.path:
            path_ids = {"id": ids[op.path.strip("/").split("/")[0]]}
        strategy = op.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=path_ids)
        skip = set()
        if op.path == "/service_at_locations/{id}":
            skip = {
                c for c in checks if getattr(c, "__name__", "") == "response_schema_conformance"
            }

        _cases(op, strategy, [c for c in checks if c not in skip], stats, failures)
    assert failures == [], f"{len(failures)} failures:\n" + "\n".join(failures[:15])
    return stats


def _cases(
    op: Any, strategy: Any, checks: list[Any], stats: Counter[str], failures: list[str]
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if case.query and "proximity" in case.query and not _number(case.query["proximity"]):
            case.query["proximity"] = "5000"
        response = case.call(base_url=BASE)
        stats["cases"] += 1
        stats[f"{response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, checks=checks, transport_kwargs={"base_url": BASE})
            _each_record_valid(op.path, response.json())
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
            inner = list(getattr(exc, "exceptions", [exc]))
            failures.append(
                f"{op.method.upper()} {op.path} {case.query} -> {response.status_code}: "
                f"{type(inner[0]).__name__}: {str(inner[0])[:400]}"
            )

    run()


def test_official_openapi_document_finds_no_failure(
    app: Any, client: TestClient, db: Session
) -> None:
    ids = seed(db).ids()
    db.commit()
    stats = _run(app, ids)
    print(f"\nHSDS conformance: {dict(stats)}")
    assert stats["operations"] == 16 and stats["2xx"] == stats["cases"] >= 16 * 2


@pytest.mark.parametrize(
    "path",
    sorted(json.loads(OFFICIAL.read_text(encoding="utf-8"))["paths"]),
)
def test_methods_the_document_does_not_list(client: TestClient, db: Session, path: str) -> None:
    ids = seed(db).ids()
    db.commit()
    declared = set(json.loads(OFFICIAL.read_text(encoding="utf-8"))["paths"][path])
    url = "/hsds" + path.replace("{id}", ids.get(path.strip("/").split("/")[0], ""))
    documented = {m.upper() for m in declared if m in ("get", "post", "put", "patch", "delete")}
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        if method in documented:
            continue
        r = client.request(method, url)
        assert r.status_code == 405, (method, url, r.status_code)
        # HEAD answers wherever GET does (runtime.HeadAsGet): a 405's Allow names it too
        head = {"HEAD"} if "GET" in documented else set()
        assert set(r.headers["allow"].replace(" ", "").split(",")) == documented | head
    allow = client.options(url).headers["allow"]
    assert {m.strip() for m in allow.split(",")} - {"HEAD", "OPTIONS"} == documented


def test_the_run_would_see_a_wrong_answer(app: Any, client: TestClient, db: Session) -> None:
    """Control: the same document and checks refuse a page that breaks the `Page` schema."""
    import httpx

    schema = schemathesis.openapi.from_dict(official_document())
    op = schema["/services"]["GET"]
    case = op.Case(query={})
    request = httpx.Request("GET", BASE + "/services")
    wrong = httpx.Response(200, json={"total_items": "many", "contents": []}, request=request)
    wrong.elapsed = dt.timedelta(milliseconds=1)
    with pytest.raises((Exception, BaseExceptionGroup)) as caught:  # noqa: B017
        case.validate_response(wrong, checks=_all_checks())
    assert '"many" is not of type "integer"' in str(caught.value), str(caught.value)[:500]
