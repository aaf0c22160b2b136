"""Is the schema current? Without Alembic, for the commands that only read (`export`).

Importing Alembic's runner and loading every migration script costs a command ~0.4 s of CPU at
start (Alembic pulls in Mako and Pygments); an export of 10,000 services takes ~2 s in all. The
head is read from the migration files' `revision` / `down_revision` lines instead, and the
database's `alembic_version` with one query. Only a yes counts: anything unusual (no table, two
heads, a file this reading does not understand) answers no, and the caller then asks Alembic
(`directory.migrate`), whose answer and error messages stay the reference.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

VERSIONS_DIR = Path(__file__).resolve().parent.parent / "migrations" / "versions"

_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([0-9A-Za-z_]+)["']""")


def script_head() -> str | None:
    """The one head of the migration scripts, or None when it cannot be told this way."""
    revisions: set[str] = set()
    parents: set[str] = set()
    try:
        paths = sorted(VERSIONS_DIR.glob("*.py"))
        for path in paths:
            found = dict(_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
            if set(found) != {"revision", "down_revision"}:
                return None
            revision = _QUOTED.findall(found["revision"])
            if len(revision) != 1:
                return None
            revisions.add(revision[0])
            parents.update(_QUOTED.findall(found["down_revision"]))
    except (OSError, UnicodeDecodeError):
        return None
    heads = revisions - parents
    if not paths or len(revisions) != len(paths) or len(heads) != 1:
        return None
    return heads.pop()


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the scripts' one head (False may also mean "ask Alembic")."""
    head = script_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:
        return False
    return [tuple(v) for v in versions] == [(head,)]
