"""Validators of the API's records: plain HSDS 3.1 (vendored official schemas) and the
published profile, strict (no property neither HSDS nor the profile defines)."""

from __future__ import annotations

from functools import cache
from typing import Any

from directory.exchange import profile
from tests.exchange import hsds


@cache
def _strict(name: str) -> Any:
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = [
        (n, Resource.from_contents(profile.compiled_schema(n, strict=True), DRAFT202012))
        for n in profile.schema_names()
        if n != "openapi.json"
    ]
    registry: Registry = Registry().with_resources(resources)
    schema = profile.compiled_schema(name, strict=True)
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def profile_errors(record: Any, name: str) -> list[str]:
    return [
        "/".join(str(p) for p in e.absolute_path) + ": " + e.message
        for e in _strict(name).iter_errors(record)
    ]


def hsds_errors(record: Any, name: str) -> list[str]:
    return hsds.errors(record, name, version="3.1")


def assert_valid(record: Any, name: str) -> None:
    """Valid against plain HSDS 3.1 and, strictly, against the profile (`name`: e.g.
    `service.json`)."""
    plain = hsds_errors(record, name)
    assert plain == [], (name, plain[:5])
    strict = profile_errors(record, name)
    assert strict == [], (name, strict[:5])
