"""Exports and imports over the API (mounted under /api/v1 by `directory.api.routes`).

- `GET /api/v1/export/{format}`: streamed; public by default; `?include_confidential=true` is
  for admins only (bearer token with the admin scope) and is marked as such in the file.
- `POST /api/v1/imports`: a multipart upload (`file`, `format`, `source`, `apply`, `publish`);
  answers the same report as the CLI, as JSON. Moderators may check and queue change requests;
  only admins may publish at once.
"""

from __future__ import annotations

import datetime as dt
import enum
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from directory.api.auth import ApiSession, Moderator, OptionalIdentity
from directory.api.problems import PROBLEM, problem
from directory.api.schemas import Problem
from directory.deps import get_session
from directory.errors import DomainError, Forbidden, ValidationFailed
from directory.exchange.exporters import EXPORT_FORMATS
from directory.exchange.readers import IMPORT_FORMATS
from directory.exchange.records import ExportOptions
from directory.exchange.safety import MAX_UPLOAD_BYTES


def _problems(*codes: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    schema = Problem.model_json_schema()
    return {
        code: {"description": desc, "content": {PROBLEM: {"schema": schema}}}
        for code, desc in codes
    }


ExportFormatName = enum.Enum(  # type: ignore[misc]
    "ExportFormatName", {name.replace("-", "_"): name for name in EXPORT_FORMATS}, type=str
)

router = APIRouter(prefix="/export", tags=["data exchange"])
imports_router = APIRouter(prefix="/imports", tags=["data exchange"])

# Request-scoped (not function-scoped) so the session lives while the response streams.
StreamSession = Annotated[Session, Depends(get_session)]


class TooLarge(DomainError):
    status = 413
    title = "Content Too Large"


@router.get(
    "/{fmt}",
    summary="The whole directory in one exchange format (streamed)",
    description=(
        "Formats: `hsds-json` (array of Open Referral HSDS 3 services), `hsds-csv` (zip of HSDS "
        "tables + datapackage.json), `hxl` (CSV with HXL hashtags), `geojson` (RFC 7946), `csv` "
        "(one row per service at a place, for spreadsheets). Public exports never contain "
        "confidential addresses or coordinates; `include_confidential=true` needs an admin token."
    ),
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the export, streamed",
            "content": {f.media_type.split(";")[0]: {} for f in EXPORT_FORMATS.values()},
        },
        **_problems(
            (401, "no valid token"),
            (403, "confidential data needs an admin token"),
            (422, "unknown format or bad parameter"),
        ),
    },
)
def export_route(
    fmt: ExportFormatName,
    session: StreamSession,
    ident: OptionalIdentity,
    include_confidential: bool = False,
) -> StreamingResponse:
    from directory.accounts.models import Role

    spec = EXPORT_FORMATS[fmt.value]
    if include_confidential and (
        ident is None or ident.account.role != Role.admin or not ident.has("admin")
    ):
        raise Forbidden("Only admins may export confidential addresses and coordinates")
    options = ExportOptions(include_confidential=include_confidential)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    scope = "-admin" if include_confidential else ""
    headers = {
        "Content-Disposition": f'attachment; filename="aid-directory-{stamp}{scope}{spec.suffix}"',
        "Cache-Control": "no-store" if include_confidential else "public, max-age=300",
        "X-Export-Scope": options.scope,
    }
    chunks: Iterator[bytes] = spec.produce(session, options)
    return StreamingResponse(chunks, media_type=spec.media_type, headers=headers)


@imports_router.post(
    "",
    summary="Check (and with apply=true write) a file of listings; answers the import report",
    description=(
        "Without `apply` nothing is written. With `apply` everything is written or nothing; "
        "records become change requests for moderators, or are published at once with "
        "`publish=true` (admins). Re-importing the same file changes nothing. A check with "
        "errors answers 200 with `ok: false`; a refused apply answers 422 with the report."
    ),
    responses={
        200: {
            "description": "the import report (`ok`, `counts`, `errors`, `warnings` ...)",
            "content": {"application/json": {}},
        },
        **_problems(
            (401, "no valid token"),
            (403, "moderators import; only admins publish"),
            (413, "the upload is too large"),
            (422, "bad parameters, or the file was refused (body has `report`)"),
        ),
    },
)
def import_route(
    ident: Moderator,
    session: ApiSession,
    file: Annotated[UploadFile, File(description="the file: .json, .zip or .csv")],
    format: Annotated[str | None, Form(description="hsds-json, hsds-csv or csv")] = None,  # noqa: A002
    source: Annotated[str | None, Form(max_length=100)] = None,
    apply: Annotated[bool, Form()] = False,
    publish: Annotated[bool, Form()] = False,
) -> JSONResponse:
    from directory.exchange.commands import SUFFIX_FORMATS
    from directory.exchange.importer import run_import

    name = Path(file.filename or "upload").name[:200]
    fmt = format or SUFFIX_FORMATS.get(Path(name).suffix.lower())
    if fmt not in IMPORT_FORMATS:
        raise ValidationFailed(
            [{"path": "format", "message": "must be one of: " + ", ".join(IMPORT_FORMATS)}]
        )
    if publish and not apply:
        raise ValidationFailed([{"path": "publish", "message": "needs apply=true"}])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("upload" + Path(name).suffix.lower()[:8])
        size = 0
        with path.open("wb") as out:
            while chunk := file.file.read(1 << 16):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise TooLarge(
                        f"Uploads are limited to {MAX_UPLOAD_BYTES >> 20} MB; "
                        "use `aid-directory import` for larger files"
                    )
                out.write(chunk)
        report = run_import(
            session,
            path,
            fmt=fmt,
            source=source,
            apply=apply,
            publish=publish,
            actor=ident.account,
            display_name=name,
            limit=MAX_UPLOAD_BYTES,
        )
    body: dict[str, Any] = report.as_dict()
    headers = {"Cache-Control": "no-store"}
    if apply and not report.ok:
        detail = report.refused or f"{report.error_count} error(s): nothing was written"
        return problem(422, detail, headers=headers, report=body)
    return JSONResponse(body, headers=headers)
