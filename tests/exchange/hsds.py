"""The official HSDS 3 JSON Schemas, vendored in tests/data/hsds-schema/ (so they always run).

`tests/data/hsds-schema/3.0.1/` (what the exports and the importer follow) and `.../3.1/` (for the
HSDS 3.1 API at /hsds/) are copies of Open Referral's schemas, examples and compiled schemas, under
CC BY-SA 4.0: LICENSE and VERSION.txt (source repository and commit) sit beside each copy. The
compiled schemas are stored xz-compressed (`compiled/<name>.json.xz`, 2-4 MB each unpacked);
`load()` reads either form.
"""

from __future__ import annotations

import json
import lzma
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "tests" / "data" / "hsds-schema"
SCHEMA_DIR = SCHEMAS / "3.0.1"
SCHEMA_DIR_3_1 = SCHEMAS / "3.1"


def require_schema(version: str = "3.0.1") -> Path:
    """The folder of the vendored schemas of `version` (fails loudly if someone removed them)."""
    base = SCHEMAS / version
    assert (base / "compiled" / "service.json.xz").is_file(), (
        f"vendored HSDS {version} schemas missing in {base}"
    )
    return base


def load(path: Path) -> Any:
    """A schema or example file, from `path` or its `.xz` beside it."""
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return json.loads(lzma.decompress(Path(str(path) + ".xz").read_bytes()).decode("utf-8"))


@cache
def _validator(name: str, version: str = "3.0.1") -> Any:
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    base = require_schema(version)
    resources = [
        (path.name, Resource.from_contents(load(path), default_specification=DRAFT202012))
        for path in base.glob("*.json")
    ]
    registry: Registry = Registry().with_resources(
        resources
    )  # refs like "phone.json" resolve locally
    schema = load(base / name)
    return Draft202012Validator(schema, registry=registry, format_checker=FormatChecker())


def errors(
    instance: Any, schema: str = "compiled/service.json", version: str = "3.0.1"
) -> list[str]:
    """Every schema error of `instance`, as `path: message` lines (empty when valid)."""
    validator = _validator(schema, version)
    return [
        "/".join(str(p) for p in e.absolute_path) + ": " + e.message
        for e in validator.iter_errors(instance)
    ]
