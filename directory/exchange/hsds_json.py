"""HSDS 3 JSON: a JSON array of service objects, one per line, streamed.

One object per line keeps the file valid JSON and lets the importer read it back line by line
(flat memory); any other valid layout is read with the standard parser (size-limited).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy.orm import Session

from directory.exchange.records import ExportOptions, iter_services


def export_hsds_json(session: Session, options: ExportOptions) -> Iterator[bytes]:
    first = True
    yield b"[\n"
    for service in iter_services(session, options):
        line = json.dumps(service, ensure_ascii=False, separators=(",", ":"))
        yield (("" if first else ",\n") + line).encode()
        first = False
    yield b"\n]\n"
