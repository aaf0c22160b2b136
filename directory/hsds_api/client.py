"""Reading another installation's HSDS API: `aid-directory import https://other.example/hsds/`.

`download` pages through `/services?full=true` (any HSDS 3 API answers it; `modified_after`
for an incremental sync) and writes the services to a temporary file in the layout of our own
hsds-json export (one service a line), so the importer reads it as it reads a file: checked,
all or nothing, moderated or published, flat memory. Tombstones (archived records: HSDS
`metadata` with `last_action_type: delete`, `directory.hsds_api.shapes.tombstone`) are not
imported: `archive_tombstones` archives those services here, through moderation.

The next incremental sync starts from `Download.started` (the other server's clock when the
download began, less a margin, so that a change committed while we were reading is read next
time: the importer skips what did not change).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from directory.hsds_api.shapes import is_tombstone

PER_PAGE = 200
MAX_PAGES = 100_000
TIMEOUT = 60.0
#: Subtracted from the other server's time at the start of a download.
MARGIN = dt.timedelta(minutes=5)


class SyncError(Exception):
    """The source is not an HSDS API we can read (the message says why, for the CLI)."""


@dataclass
class Download:
    path: Path
    services: int = 0
    tombstones: list[uuid.UUID] = field(default_factory=list)
    pages: int = 0
    bytes: int = 0
    started: dt.datetime | None = None

    @property
    def next_modified_after(self) -> str | None:
        if self.started is None:
            return None
        return (self.started - MARGIN).isoformat().replace("+00:00", "Z")


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def _server_time(response: httpx.Response) -> dt.datetime:
    header = response.headers.get("date")
    if header:
        try:
            return email.utils.parsedate_to_datetime(header).astimezone(dt.UTC)
        except (TypeError, ValueError):
            pass
    return dt.datetime.now(dt.UTC)


def _pages(
    http: httpx.Client, base: str, modified_after: str | None, dl: Download
) -> Iterator[dict[str, Any]]:
    query: dict[str, Any] = {"full": "true", "per_page": PER_PAGE}
    if modified_after:
        query["modified_after"] = modified_after
    for number in range(1, MAX_PAGES + 1):
        r = http.get(base + "/services", params={**query, "page": number})
        if r.status_code != 200:
            raise SyncError(f"{r.request.url} answered {r.status_code}")
        dl.pages += 1
        dl.bytes += len(r.content)
        if dl.started is None:
            dl.started = _server_time(r)
        body = r.json()
        contents = body.get("contents") if isinstance(body, dict) else None
        if not isinstance(contents, list):
            raise SyncError(f"{r.request.url} is not an HSDS page (no contents)")
        yield from (c for c in contents if isinstance(c, dict))
        if not contents or body.get("last_page") is True:
            return
        total = body.get("total_pages")
        if isinstance(total, int) and number >= total:
            return
    raise SyncError(f"more than {MAX_PAGES} pages")


def download(
    url: str, *, modified_after: str | None = None, transport: httpx.BaseTransport | None = None
) -> Download:
    """The services of the HSDS API at `url` in a temporary hsds-json file (delete it after)."""
    base = url.rstrip("/")
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, removed by the caller
        "w", suffix=".json", prefix="aid-directory-sync-", delete=False, encoding="utf-8"
    )
    dl = Download(path=Path(handle.name))
    try:
        with httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=True) as http:
            root = http.get(base + "/")
            info = root.json() if root.status_code == 200 else None
            if not isinstance(info, dict) or not str(info.get("version", "")).startswith("3"):
                raise SyncError(f"{base}/ does not answer as an HSDS 3 API root")
            handle.write("[\n")
            first = True
            for record in _pages(http, base, modified_after, dl):
                if is_tombstone(record):
                    try:
                        dl.tombstones.append(uuid.UUID(str(record.get("id"))))
                    except ValueError:
                        continue
                    continue
                line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
                handle.write(("" if first else ",\n") + line)
                first = False
                dl.services += 1
            handle.write("\n]\n")
    except (httpx.HTTPError, ValueError) as exc:
        handle.close()
        dl.path.unlink(missing_ok=True)
        raise SyncError(f"{base}: {type(exc).__name__}: {exc}") from None
    except BaseException:
        handle.close()
        dl.path.unlink(missing_ok=True)
        raise
    handle.close()
    return dl


def archive_tombstones(session: Any, ids: list[uuid.UUID], *, actor: Any) -> int:
    """Archive here the services the other installation archived (those we have and that are
    not archived yet), each as a moderated change: applied at once for an admin, queued for
    moderators otherwise. The number of services proposed."""
    from sqlalchemy import select

    from directory.listings import models as m
    from directory.moderation.service import propose

    if not ids:
        return 0
    rows = session.execute(
        select(m.Service.id, m.Service.version).where(
            m.Service.id.in_(ids), m.Service.archived_at.is_(None)
        )
    ).all()
    for sid, version in rows:
        propose(
            session,
            actor=actor,
            entity_type="service",
            kind="archive",
            entity_id=sid,
            base_version=version,
            source="import",
            comment="archived at the source (HSDS sync)",
        )
    return len(rows)
