"""The official HSDS 3 JSON Schemas from ../shared/hsds-schema, when present.

Tests validate against them when the copy is there (CI has it) and say so in the pytest header;
without it they skip with that reason, except under CI (DIRECTORY_REQUIRE_POSTGRES=1 or
DIRECTORY_REQUIRE_HSDS_SCHEMA=1), where a missing copy is a failure, not a silent pass.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = Path(os.environ.get("DIRECTORY_HSDS_SCHEMA_DIR", ROOT.parent / "shared" / "hsds-schema"))
REQUIRED = (
    os.environ.get("DIRECTORY_REQUIRE_HSDS_SCHEMA") == "1"
    or os.environ.get("DIRECTORY_REQUIRE_POSTGRES") == "1"
)


def present() -> bool:
    return (SCHEMA_DIR / "compiled" / "service.json").is_file()


def require_schema() -> Path:
    if present():
        return SCHEMA_DIR
    reason = (
        f"HSDS schemas absent at {SCHEMA_DIR}: schema validation NOT run "
        "(get openreferral/specification schema/ there, or set DIRECTORY_HSDS_SCHEMA_DIR)"
    )
    if REQUIRED:
        pytest.fail(reason + " — required in CI")
    pytest.skip(reason)


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    base = require_schema()
    resources = []
    for path in [*base.glob("*.json"), *(base / "compiled").glob("*.json")]:
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    registry: Registry = Registry().with_resources(resources)  # refs like "phone.json" resolve locally
    schema = json.loads((base / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def errors(instance: Any, schema: str = "compiled/service.json") -> list[str]:
    """Every schema error of `instance`, as `path: message` lines (empty when valid)."""
    validator = _validator(schema)
    return [
        "/".join(str(p) for p in e.absolute_path) + ": " + e.message
        for e in validator.iter_errors(instance)
    ]
