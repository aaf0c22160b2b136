"""Schemathesis against our own OpenAPI document, in-process: every operation, valid and invalid
input, anonymous and with a moderator's token. No 5xx, and every response matches the schema
(status code, content type, body). Bounded: a few examples per operation and mode, no shrinking
database, no deadline; about a minute per backend on two cores."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from tests.factories import make_account, make_listing, make_place, make_token
from tests.security.walk import OPENAPI_URL

#: Examples per operation and generation mode (env override for a longer local run).
EXAMPLES = int(os.environ.get("DIRECTORY_FUZZ_EXAMPLES", "3"))
POSITIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


def _real_ids(db: Session) -> dict[str, str]:
    region = make_place(db, name="Fuzz oblast")
    svc, loc = make_listing(db, region=region, name="Fuzz shelter")
    return {
        "service": str(svc.id),
        "location": str(loc.id),
        "organization": str(svc.organization_id),
        "place": str(region.id),
        "region": str(region.id),
    }


def _path_values(op: Any, ids: dict[str, str]) -> dict[str, str] | None:
    """Real ids for the operation's path parameters, so fuzzing reaches past the 404."""
    values = {}
    for param in op.path_parameters:
        name = param.name.lower()
        match = next((v for k, v in ids.items() if k in name), None)
        if match is None and name in ("id", "uuid"):
            segment = op.path.strip("/").split("/")[1] if "/" in op.path.strip("/") else ""
            match = next((v for k, v in ids.items() if segment.startswith(k)), None)
        if match is None:
            return None
        values[param.name] = match
    return values or None


def _fuzz(app: Any, db: Session, headers: dict[str, str]) -> Counter[str]:
    schema = schemathesis.openapi.from_asgi(OPENAPI_URL, app)
    ids = _real_ids(db)
    db.commit()  # a failed request rolls back to here, not past the seeded rows
    stats: Counter[str] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        stats["operations"] += 1
        real = _path_values(op, ids)
        for mode, checks in (
            (GenerationMode.POSITIVE, POSITIVE_CHECKS),
            (GenerationMode.NEGATIVE, NEGATIVE_CHECKS),
        ):
            strategy = op.as_strategy(generation_mode=mode)
            if real and mode is GenerationMode.POSITIVE:
                strategy = st.one_of(
                    strategy, op.as_strategy(generation_mode=mode, path_parameters=real)
                )

            _run_cases(op, mode, strategy, checks, headers, stats, failures)
    stats["nonconforming"] = len(failures)
    print(f"\nfuzz {'authenticated' if headers else 'anonymous'}: {dict(stats)}")
    server_errors = [f for f in failures if "-> 5" in f]
    assert stats["5xx"] == 0 and server_errors == [], "\n".join(server_errors[:20])
    distinct = sorted({": ".join(f.split(": ", 2)[:2]) for f in failures})
    assert failures == [], (
        f"{len(failures)} responses do not match the OpenAPI document; "
        "distinct:\n" + "\n".join(distinct)
    )
    return stats


def _run_cases(
    op: Any,
    mode: GenerationMode,
    strategy: Any,
    checks: list[Any],
    headers: dict[str, str],
    stats: Counter[str],
    failures: list[str],
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
        response = case.call(headers=headers)
        stats["cases"] += 1
        stats[f"{response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported below
            inner = list(getattr(exc, "exceptions", [exc]))
            kinds = ", ".join(sorted({type(e).__name__ for e in inner}))
            failures.append(
                f"{op.method.upper()} {op.path} [{mode.value}] "
                f"-> {response.status_code}: {kinds}: {str(inner[0])[:300]}"
            )

    try:
        run()
    except Unsatisfiable:
        stats["no_invalid_input_possible"] += 1  # e.g. negative mode for a parameterless GET


def test_fuzz_api_anonymous(app: Any, client: TestClient, db: Session) -> None:
    stats = _fuzz(app, db, {})
    assert stats["operations"] >= 20 and stats["cases"] >= stats["operations"]


def test_fuzz_api_with_moderator_token(app: Any, client: TestClient, db: Session) -> None:
    region = make_place(db, name="Fuzz moderator oblast")
    moderator = make_account(db, "admin", [region])
    token = make_token(db, moderator)
    stats = _fuzz(app, db, {"Authorization": f"Bearer {token}"})
    assert stats["operations"] >= 20


@pytest.mark.parametrize("path", [OPENAPI_URL])
def test_openapi_document_is_valid(client: TestClient, path: str) -> None:
    doc = client.get(path).json()
    assert doc["openapi"].startswith("3.")
    schemathesis.openapi.from_dict(doc).validate()  # type: ignore[attr-defined]
