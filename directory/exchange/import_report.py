"""The import report: what a file would change or changed, and every problem (file, line
or JSON path, field, reason)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MAX_ERRORS = 1000  # listed one by one; beyond that only counted
ENTITIES = (
    "organization", "service", "location", "address", "phone", "schedule", "schedule_exception",
    "language", "required_document", "accessibility",
)  # fmt: skip


@dataclass
class Problem:
    file: str
    line: int | None
    path: str
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        where += f" {self.path}" if self.path and not self.path.startswith("line ") else ""
        return f"{where}: {self.field or '-'}: {self.reason}"


@dataclass
class Report:
    file: str
    format: str
    source: str | None
    applied: bool = False
    published: bool = False
    refused: str | None = None
    services_read: int = 0
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: {e: {"new": 0, "changed": 0, "unchanged": 0} for e in ENTITIES}
    )
    errors: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warnings: list[Problem] = field(default_factory=list)
    change_requests: int = 0
    #: new listings proposed as one change-request group each (approved or rejected as a whole)
    groups: int = 0
    pending: int = 0
    held: int = 0  # contact changes published by one admin: they wait for a second moderator
    changed: list[dict[str, Any]] = field(default_factory=list)  # first changes, for the reader
    _warned: set[tuple[str, str]] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error_count == 0

    def error(self, problem: Problem) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(problem)

    def warn(self, problem: Problem) -> None:
        key = (problem.field, problem.reason)
        if key in self._warned:
            return  # the same warning once (e.g. for every place of a public export)
        self._warned.add(key)
        if len(self.warnings) < MAX_ERRORS:
            self.warnings.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "source": self.source,
            "ok": self.ok,
            "applied": self.applied,
            "published": self.published,
            "refused": self.refused,
            "services_read": self.services_read,
            "counts": self.counts,
            "error_count": self.error_count,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "change_requests": self.change_requests,
            "groups": self.groups,
            "pending": self.pending,
            "held": self.held,
            "changed": self.changed,
        }
