"""Compare two SQLite directories table by table (every listing, audit, change-request, search and
FTS table), for "same result" checks of import speed-ups: import the same file into two fresh
databases with the old and the new code, then

    python -m bench.db_compare OLD.db NEW.db --since "2026-12-03 19:07"

Masked, because they differ from run to run by design: timestamps at or after `--since` (the
runs' own `now`; give a time after the file was generated and before the imports), the random ids
of translation, audit and change-request rows (an audit entry's change request is named by its
group, the service), the admin accounts' ids, and the account/setting tables. JSON columns are
compared as their stored text (key order included), then parsed for the report.
Exit status 1 and the first differing rows of each table when anything differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys

RANDOM_IDS = {"translation", "audit_entry", "change_request", "alembic_version"}
SKIPPED = {"setting", "account", "session", "login_event", "account_session"}
FTS_KEPT = {"service_fts_term", "service_fts_zone"}  # plain tables beside the FTS5 one
TIMESTAMP = re.compile(r'"(\d{4}-\d{2}-\d{2}[T ][0-9:.]+[^"]*)"')


def dump(path: str, since: str) -> dict[str, list[str]]:
    """Every table's rows as sorted JSON lines, masked (see the module docstring)."""
    conn = sqlite3.connect(path)
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
    ]
    admins = [r[0] for r in conn.execute("SELECT id FROM account")]
    groups = dict(conn.execute("SELECT id, entity_id FROM change_request").fetchall())
    out: dict[str, list[str]] = {}
    for table in tables:
        if table.startswith("sqlite_") or table in SKIPPED:
            continue
        if table.startswith("service_fts_") and table not in (
            "service_fts_term",
            "service_fts_zone",
        ):
            continue  # FTS5 shadow tables: their content is the FTS table's, compared as such
        cursor = conn.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the schema
        columns = [c[0] for c in cursor.description]
        rows = []
        for values in cursor:
            row = dict(zip(columns, values, strict=True))
            if table in RANDOM_IDS and "id" in row:
                row["id"] = "RANDOM"
            if table == "audit_entry":
                row["change_request_id"] = groups.get(row["change_request_id"])
            text = json.dumps(row, sort_keys=True, default=str)
            for admin in admins:
                text = text.replace(str(admin), "ADMIN")
            text = TIMESTAMP.sub(
                lambda mo: '"NOW"' if mo.group(1).replace("T", " ") >= since else mo.group(0),
                text,
            )
            rows.append(text)
        out[table] = sorted(rows)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--since", required=True, help="timestamps from here on are the runs'")
    args = parser.parse_args()
    old, new = dump(args.old, args.since), dump(args.new, args.since)
    differ = False
    for table in sorted(set(old) | set(new)):
        a, b = old.get(table, []), new.get(table, [])
        if a != b:
            differ = True
            gone, added = sorted(set(a) - set(b)), sorted(set(b) - set(a))
            print(
                f"{table}: {len(a)} vs {len(b)} rows; only in old: {len(gone)}, new: {len(added)}"
            )
            for line in gone[:1]:
                print("  old:", line[:2000])
            for line in added[:1]:
                print("  new:", line[:2000])
    rows = sum(len(v) for v in new.values())
    print(("DIFFERENT" if differ else "identical") + f": {len(new)} tables, {rows} rows")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
