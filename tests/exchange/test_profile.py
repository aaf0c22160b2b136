"""The HSDS profile: the merge patch compiler (RFC 7386's own examples), the compiled schemas
(valid JSON Schema 2020-12 and OpenAPI 3.1 documents) and their stable URLs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from directory.exchange import profile
from directory.exchange.exporters import export
from directory.exchange.records import ExportOptions


@pytest.mark.parametrize(
    ("target", "patch", "result"),
    [  # RFC 7386, Appendix A
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_merge_patch_follows_rfc_7386(target: Any, patch: Any, result: Any) -> None:
    assert profile.merge_patch(target, patch) == result


def test_compiled_schemas_are_valid_json_schema_and_openapi() -> None:
    from jsonschema import Draft202012Validator

    names = profile.schema_names()
    assert {"service.json", "location.json", "openapi.json", "service_capacity.json"} <= set(names)
    for name in names:
        if name == "openapi.json":
            continue
        Draft202012Validator.check_schema(profile.compiled_schema(name))
        Draft202012Validator.check_schema(profile.compiled_schema(name, strict=True))
    api = profile.compiled_schema("openapi.json")
    assert api["openapi"].startswith("3.1")
    assert "REQUIRED" not in str(api["info"]) and "url" not in api["info"]["license"]
    # responses are the profile's own schemas (relative: served beside the document); read-only
    refs = {
        path: op["responses"]["200"]["content"]["application/json"]["schema"]
        for path, item in api["paths"].items()
        for name, op in item.items()
        if name == "get"
    }
    assert refs["/services/{id}"]["$ref"] == "service.json"
    assert refs["/services"]["properties"]["contents"]["items"]["$ref"] == "service.json"
    assert refs["/service_at_locations/{id}"]["$ref"] == "service_at_location.json"
    assert not any("post" in item for item in api["paths"].values())
    assert not any(r.startswith("http") for r in _refs(api))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_profile_is_served_at_its_stable_url(client: TestClient) -> None:
    r = client.get("/hsds/profile/")
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    doc = r.json()
    assert doc["hsds_version"] == "3.1" and doc["url"].endswith("/hsds/profile/")
    assert set(doc["redaction"]) >= {"exact", "approximate", "confidential"}
    for name, url in doc["schema"].items():
        path = url.split("://", 1)[-1].split("/", 1)[1]
        got = client.get("/" + path)
        assert got.status_code == 200, name
        assert got.json() == profile.compiled_schema(name)
    for name, url in doc["profile"].items():
        path = url.split("://", 1)[-1].split("/", 1)[1]
        assert client.get("/" + path).json() == profile.patch(name)
    again = client.get(
        "/hsds/profile/schema/service.json", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304
    missing = client.get("/hsds/profile/schema/nothing.json")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert (
        profile.profile_url("https://help.example.org/") == "https://help.example.org/hsds/profile/"
    )


@pytest.mark.parametrize("scope", ["public", "admin"])
def test_every_exported_service_validates_strictly_against_the_profile(
    db: Session, scope: str
) -> None:
    """The check Open Referral's CI runs on a profile: no property that neither HSDS 3.1 nor the
    profile defines; and still plain HSDS 3.1."""
    from tests.exchange.data import make_dataset
    from tests.hsds_api.validate import hsds_errors, profile_errors

    make_dataset(db, tag="pf" + scope[:2])
    options = ExportOptions(include_confidential=scope == "admin")
    services = json.loads(b"".join(export(db, "hsds-json", options)))
    assert len(services) >= 3
    for service in services:
        assert profile_errors(service, "service.json") == [], service["name"]
        assert hsds_errors(service, "service.json") == [], service["name"]
    strict = profile.compiled_schema("service.json", strict=True)
    assert strict["additionalProperties"] is False
    bad = {**services[0], "x_unknown": 1}
    assert profile_errors(bad, "service.json")  # an undeclared extension fails


def test_profile_documents_its_redaction_rule() -> None:
    location = profile.compiled_schema("location.json")["properties"]
    rule = location["x_redacted"]["description"]
    assert "approximate" in rule and "confidential" in rule and "2 decimals" in rule
    assert location["x_privacy"]["enum"] == ["exact", "approximate", "confidential"]
