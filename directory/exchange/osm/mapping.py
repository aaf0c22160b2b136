"""The tag → category mapping of the OpenStreetMap import (`mapping.json` beside this file)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MAPPING = Path(__file__).with_name("mapping.json")
SHELTER_TYPES = {
    "air_raid_shelter",
    "collective_centre",
    "emergency_accommodation",
    "warming_point",
    "charging_point",
}
FLAGS = ("has_heating", "has_power", "has_water", "open_during_alert")


class MappingError(Exception):
    """The mapping file cannot be used (said in one sentence)."""


@dataclass(frozen=True)
class Rule:
    match: dict[str, tuple[str, ...] | None]  # None: any value
    category: str
    shelter_type: str | None = None
    flags: dict[str, bool] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def matches(self, tags: dict[str, str]) -> bool:
        for key, values in self.match.items():
            value = tags.get(key)
            if value is None or (values is not None and value not in values):
                return False
        return True


@dataclass(frozen=True)
class Mapping:
    rules: tuple[Rule, ...]
    distance_m: float = 100.0
    name_similarity: float = 0.75
    source: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """Every tag key a rule needs (the reader's first, cheap filter)."""
        return tuple(sorted({k for r in self.rules for k in r.match}))

    def rule_for(self, tags: dict[str, str]) -> Rule | None:
        return next((r for r in self.rules if r.matches(tags)), None)


def load_mapping(path: Path | None = None, *, categories: set[str] | None = None) -> Mapping:
    """Read and check a mapping file (the shipped one without `path`)."""
    path = path or DEFAULT_MAPPING
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"cannot read the mapping file {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"the mapping file {path.name} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list) or not doc["rules"]:
        raise MappingError(f"the mapping file {path.name} has no list of rules")
    rules = [_rule(raw, i, path.name, categories) for i, raw in enumerate(doc["rules"])]
    try:
        distance = float(doc.get("distance_m", 100))
        similarity = float(doc.get("name_similarity", 0.75))
    except (TypeError, ValueError):
        raise MappingError(f"{path.name}: distance_m and name_similarity are numbers") from None
    if not 0 <= distance <= 5000 or not 0 < similarity <= 1:
        raise MappingError(f"{path.name}: distance_m is 0-5000 m, name_similarity 0-1")
    return Mapping(tuple(rules), distance, similarity, str(path))


def _rule(raw: Any, i: int, name: str, categories: set[str] | None) -> Rule:
    where = f"{name}: rule {i + 1}"
    if not isinstance(raw, dict) or not isinstance(raw.get("match"), dict) or not raw["match"]:
        raise MappingError(f"{where} needs a 'match' object of tags")
    match: dict[str, tuple[str, ...] | None] = {}
    for key, value in raw["match"].items():
        if value == "*":
            match[str(key)] = None
        elif isinstance(value, str):
            match[str(key)] = (value,)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            match[str(key)] = tuple(value)
        else:
            raise MappingError(f'{where}: the value of {key!r} is a string, a list or "*"')
    category = raw.get("category")
    if not isinstance(category, str) or (categories is not None and category not in categories):
        raise MappingError(f"{where}: {category!r} is not a category of the directory")
    shelter_type = raw.get("shelter_type")
    if shelter_type is not None and shelter_type not in SHELTER_TYPES:
        raise MappingError(f"{where}: shelter_type is one of {', '.join(sorted(SHELTER_TYPES))}")
    flags = {f: bool(raw[f]) for f in FLAGS if f in raw}
    names = raw.get("names") or {}
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise MappingError(f"{where}: 'names' maps locales to names")
    return Rule(match, category, shelter_type, flags, {str(k): v for k, v in names.items()})
