"""Reading import files safely: HSDS JSON, the HSDS tabular zip and the simple spreadsheet CSV
become a stream of `Item`s (one HSDS-shaped service each, with where it came from).

Hostile or broken files are refused with one clear reason (`ImportRefused`) before anything is
written: bad encoding, wrong delimiter, zip bombs, huge fields, too many rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from directory.exchange import safety
from directory.exchange.csv_simple import HEADER as SIMPLE_HEADER
from directory.exchange.records import EXT

IMPORT_FORMATS = ("hsds-json", "hsds-csv", "csv")
SRC = "__src__"  # (file, line) of a nested record read from a CSV table


class ImportRefused(Exception):
    """The whole file is refused (nothing is read further, nothing is written)."""

    def __init__(self, reason: str, *, file: str = "", line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.line = line


@dataclass
class Item:
    """One service read from the file, in the HSDS service shape (plus `x_` extensions)."""

    data: dict[str, Any]
    file: str
    line: int | None
    path: str
    textual: bool = False  # values are CSV text (numbers and booleans still to be parsed)
    partial: bool = False  # only the columns present in the file are compared and written
    lines: list[int] = field(default_factory=list)


def _size_check(path: Path, limit: int) -> None:
    size = path.stat().st_size
    if size > limit:
        raise ImportRefused(
            f"the file is too large ({size // (1 << 20)} MB; at most {limit // (1 << 20)} MB)",
            file=path.name,
        )
    if size == 0:
        raise ImportRefused("the file is empty", file=path.name)


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportRefused(
            f"not UTF-8 text (byte {exc.start + 1}, line {line}): save the file as UTF-8 "
            "(in Excel: 'CSV UTF-8'; in LibreOffice: character set 'Unicode (UTF-8)')",
            file=name,
            line=line,
        ) from None


# --- HSDS JSON --------------------------------------------------------------------------------

MAX_JSON_DOCUMENT = 200 * 1024 * 1024  # read whole only below this; our own exports stream


def read_hsds_json(path: Path, *, limit: int = safety.MAX_FILE_BYTES) -> Iterator[Item]:
    """Services from a JSON array, a single service object, or an HSDS paginated list
    (`{"contents": [...]}`). Our one-object-per-line layout is read line by line."""
    _size_check(path, limit)
    name = path.name
    with path.open("rb") as fh:
        head = fh.read(4).lstrip(b"\xef\xbb\xbf")
        if head[:2] in (b"[\n", b"[\r"):
            fh.seek(0)
            items = _json_lines(fh, name)
            if items is not None:
                yield from items
                return
    if path.stat().st_size > MAX_JSON_DOCUMENT:
        raise ImportRefused(
            "a JSON file this large must have one service per line "
            "(as `aid-directory export` writes it)",
            file=name,
        )
    text = _decode(path.read_bytes(), name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            file=name,
            line=exc.lineno,
        ) from None
    except RecursionError:
        raise ImportRefused("JSON nested too deeply", file=name) from None
    if isinstance(doc, dict) and isinstance(doc.get("contents"), list):
        services, prefix = doc["contents"], "$.contents"
    elif isinstance(doc, list):
        services, prefix = doc, "$"
    elif isinstance(doc, dict):
        services, prefix = [doc], "$"
        if "name" not in doc and "id" not in doc:
            raise ImportRefused(
                "no services found: expected a JSON array of HSDS service objects", file=name
            )
    else:
        raise ImportRefused(
            "no services found: expected a JSON array of HSDS service objects", file=name
        )
    if len(services) > safety.MAX_ROWS:
        raise ImportRefused(
            f"too many services ({len(services)}; at most {safety.MAX_ROWS} per import)", file=name
        )
    for i, service in enumerate(services):
        path_i = f"{prefix}[{i}]" if prefix != "$" or isinstance(doc, list) else "$"
        yield Item(
            data=service if isinstance(service, dict) else {"__invalid__": service},
            file=name,
            line=None,
            path=path_i,
        )


def _json_lines(fh: IO[bytes], name: str) -> Iterator[Item] | None:
    """Line mode, or None when the file is not laid out one object per line."""
    pos = fh.tell()
    first = fh.readline()
    second = fh.readline().strip()
    fh.seek(pos)
    if first.strip().lstrip(b"\xef\xbb\xbf") != b"[" or not (
        second.startswith(b"{") and second.endswith((b"}", b"},"))
    ):
        return None
    return _json_line_items(fh, name)


def _json_line_items(fh: IO[bytes], name: str) -> Iterator[Item]:
    index = 0
    fh.readline()
    closed = False
    for lineno, raw in enumerate(fh, start=2):
        line = raw.strip()
        if not line:
            continue
        if closed:
            raise ImportRefused("text after the end of the JSON array", file=name, line=lineno)
        if line == b"]":
            closed = True
            continue
        if line.startswith(b","):
            line = line[1:]
        if line.endswith(b","):
            line = line[:-1]
        if len(line) > 10 * safety.MAX_FIELD_CHARS * 10:
            raise ImportRefused(
                f"line {lineno} is too long ({len(line)} bytes)", file=name, line=lineno
            )
        text = _decode(line, name) if not line.isascii() else line.decode()
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportRefused(
                f"not valid JSON on line {lineno}: {exc.msg}", file=name, line=lineno
            ) from None
        except RecursionError:
            raise ImportRefused("JSON nested too deeply", file=name, line=lineno) from None
        if index >= safety.MAX_ROWS:
            raise ImportRefused(
                f"too many services (more than {safety.MAX_ROWS} per import)",
                file=name,
                line=lineno,
            )
        yield Item(
            data=obj if isinstance(obj, dict) else {"__invalid__": obj},
            file=name,
            line=lineno,
            path=f"$[{index}]",
        )
        index += 1
    if not closed:
        raise ImportRefused("the JSON array is not closed: the file seems cut off", file=name)


# --- CSV helpers ------------------------------------------------------------------------------


def _csv_rows(
    text: str, name: str, *, expected: set[str], required: set[str]
) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header and rows of a CSV text; the delimiter is detected from the header (`,` `;` tab)."""
    first_line = text.split("\n", 1)[0]
    best, best_hits = ",", -1
    for delim in (",", ";", "\t"):
        cols = [c.strip().strip('"').strip().lower() for c in first_line.split(delim)]
        hits = len(expected & set(cols))
        if hits > best_hits:
            best, best_hits = delim, hits
    csv.field_size_limit(safety.MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=best, strict=False)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRefused("the file is empty", file=name) from None
    except csv.Error as exc:
        raise ImportRefused(f"cannot read the header row: {exc}", file=name, line=1) from None
    missing = required - set(header)
    if missing:
        guess = max((";", "\t", "|", ","), key=first_line.count)
        hint = (
            f"; the file seems to use {guess!r} as separator (use comma, semicolon or tab)"
            if guess not in (best,) and first_line.count(guess)
            else ""
        )
        raise ImportRefused(
            "the header row lacks the required column(s) "
            + ", ".join(sorted(missing))
            + hint
            + " — see the template",
            file=name,
            line=1,
        )
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise ImportRefused("the header repeats column(s) " + ", ".join(dupes), file=name, line=1)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        count = 0
        try:
            for row in reader:
                lineno = reader.line_num
                if not any(c.strip() for c in row):
                    continue
                count += 1
                if count > safety.MAX_ROWS:
                    raise ImportRefused(
                        f"too many rows (more than {safety.MAX_ROWS} per import)",
                        file=name,
                        line=lineno,
                    )
                if len(row) > len(header):
                    extra = [c for c in row[len(header) :] if c.strip()]
                    if extra:
                        raise ImportRefused(
                            f"row has {len(row)} cells but the header has {len(header)} columns "
                            "(a stray separator or an unquoted comma?)",
                            file=name,
                            line=lineno,
                        )
                yield lineno, {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)}
        except csv.Error as exc:
            msg = str(exc)
            if "field larger than field limit" in msg:
                msg = f"a cell is too long (more than {safety.MAX_FIELD_CHARS} characters)"
            raise ImportRefused(
                f"cannot read the CSV: {msg}", file=name, line=reader.line_num + 1
            ) from None

    return header, rows()


# --- simple spreadsheet CSV -------------------------------------------------------------------

SIMPLE_REQUIRED = {"organization_name", "service_name"}


def read_simple_csv(path: Path, *, limit: int = safety.MAX_FILE_BYTES) -> Iterator[Item]:
    """Rows of the template CSV; rows with the same service (id, external id or name) are one
    service at several locations."""
    _size_check(path, limit)
    name = path.name
    text = _decode(path.read_bytes(), name)
    header, rows = _csv_rows(text, name, expected=set(SIMPLE_HEADER), required=SIMPLE_REQUIRED)
    groups: dict[str, Item] = {}
    order: list[str] = []
    for lineno, row in rows:
        key = (row.get("service_id") or "").strip() or (row.get("external_id") or "").strip()
        if not key:
            key = "name:" + "|".join(
                (row.get(c) or "").strip().casefold()
                for c in ("organization_name", "service_name", "location_name", "address", "city")
            )
        item = groups.get(key)
        if item is None:
            item = Item(
                data={"__rows__": []},
                file=name,
                line=lineno,
                path=f"line {lineno}",
                textual=True,
                partial=True,
            )
            groups[key] = item
            order.append(key)
        item.data["__rows__"].append((lineno, row))
        item.lines.append(lineno)
        item.data["__header__"] = header
    for key in order:
        yield groups[key]


# --- HSDS tabular zip -------------------------------------------------------------------------

TABLE_ALIASES = {"service_at_location": "service_at_locations"}
KNOWN_TABLES = {
    "services", "organizations", "locations", "service_at_locations", "addresses", "phones",
    "schedules", "languages", "attributes", "taxonomy_terms", "required_documents",
    "accessibility", "service_capacity", "units",  # HSDS 3.1
}  # fmt: skip


def _open_zip(path: Path) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    name = path.name
    if not zipfile.is_zipfile(path):
        raise ImportRefused(
            "not a zip file (hsds-csv expects a zip of CSV tables with datapackage.json)", file=name
        )
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(f"broken zip file: {exc}", file=name) from None
    infos = zf.infolist()
    if len(infos) > safety.MAX_ZIP_MEMBERS:
        raise ImportRefused(
            f"the zip holds {len(infos)} files; at most {safety.MAX_ZIP_MEMBERS}", file=name
        )
    total = 0
    tables: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.is_dir():
            continue
        member = info.filename
        if member.startswith(("/", "\\")) or ".." in member.replace("\\", "/").split("/"):
            raise ImportRefused(f"unsafe path in the zip: {member[:100]!r}", file=name)
        if info.flag_bits & 0x1:
            raise ImportRefused(f"encrypted file in the zip: {member[:100]!r}", file=name)
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > safety.MAX_ZIP_RATIO:
            raise ImportRefused(
                f"{member[:100]!r} expands {ratio:.0f} times (at most {safety.MAX_ZIP_RATIO}): "
                "refused as a possible zip bomb",
                file=name,
            )
        if total > safety.MAX_ZIP_UNCOMPRESSED:
            raise ImportRefused(
                f"the zip expands to more than {safety.MAX_ZIP_UNCOMPRESSED >> 20} MB", file=name
            )
        base = os.path.basename(member)
        if base.lower().endswith(".csv"):
            table = base[:-4].lower()
            tables[TABLE_ALIASES.get(table, table)] = info
    if "services" not in tables:
        raise ImportRefused("the zip has no services.csv", file=name)
    return zf, tables


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Read one member, never more than it declared (a lying header cannot inflate us)."""
    out = bytearray()
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 16):
            out += chunk
            if len(out) > info.file_size:
                raise ImportRefused(
                    f"{info.filename[:100]!r} is larger than the zip says: refused",
                    file=info.filename,
                )
    return bytes(out)


def read_hsds_csv(path: Path, *, limit: int = safety.MAX_FILE_BYTES) -> Iterator[Item]:
    """Services assembled from the HSDS tables (joined by their ids)."""
    _size_check(path, limit)
    zf, infos = _open_zip(path)
    tables: dict[str, list[dict[str, Any]]] = {}
    with zf:
        for table, info in infos.items():
            if table not in KNOWN_TABLES:
                continue
            text = _decode(_read_member(zf, info), info.filename)
            _, rows = _csv_rows(
                text, os.path.basename(info.filename), expected={"id"}, required={"id"}
            )
            fname = os.path.basename(info.filename)
            tables[table] = [
                {**{k: (v if v != "" else None) for k, v in row.items()}, SRC: (fname, lineno)}
                for lineno, row in rows
            ]
    yield from assemble_tables(tables)


def _json_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            return value
    return value


def assemble_tables(tables: dict[str, list[dict[str, Any]]]) -> Iterator[Item]:
    def by(table: str, key: str) -> dict[Any, list[dict[str, Any]]]:
        out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row in tables.get(table, []):
            if row.get(key):
                out[row[key]].append(row)
        return out

    def ext(row: dict[str, Any]) -> dict[str, Any]:
        return {k: (_json_cell(v) if k.startswith(EXT) else v) for k, v in row.items()}

    orgs = {r["id"]: ext(r) for r in tables.get("organizations", []) if r.get("id")}
    locations = {r["id"]: ext(r) for r in tables.get("locations", []) if r.get("id")}
    terms = {r["id"]: r for r in tables.get("taxonomy_terms", []) if r.get("id")}
    sal_by_service = by("service_at_locations", "service_id")
    addr_by_loc = by("addresses", "location_id")
    acc_by_loc = by("accessibility", "location_id")
    lang_by_service = by("languages", "service_id")
    docs_by_service = by("required_documents", "service_id")
    attrs_by_link = by("attributes", "link_id")
    units = {r["id"]: r for r in tables.get("units", []) if r.get("id")}
    capacities_by_service = by("service_capacity", "service_id")
    phones_s: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    phones_l: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for p in tables.get("phones", []):
        if p.get("service_id"):
            phones_s[p["service_id"]].append(p)
        elif p.get("location_id"):
            phones_l[p["location_id"]].append(p)
    sched_s: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    sched_l: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    sched_sal: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for s in tables.get("schedules", []):
        if s.get("service_at_location_id"):
            sched_sal[s["service_at_location_id"]].append(s)
        elif s.get("service_id"):
            sched_s[s["service_id"]].append(s)
        elif s.get("location_id"):
            sched_l[s["location_id"]].append(s)

    for row in tables.get("services", []):
        service = ext(row)
        sid = service.get("id")
        fname, lineno = row[SRC]
        if service.get("organization_id") in orgs:
            service["organization"] = orgs[service["organization_id"]]
        service["phones"] = [ext(p) for p in phones_s.get(sid, [])]
        service["schedules"] = sched_s.get(sid, [])
        service["languages"] = lang_by_service.get(sid, [])
        service["required_documents"] = docs_by_service.get(sid, [])
        service["capacities"] = [
            {**ext(c), "unit": units.get(c.get("unit_id")) or {}}
            for c in capacities_by_service.get(sid, [])
        ]
        service["attributes"] = [
            {**a, "taxonomy_term": terms.get(a.get("taxonomy_term_id")) or {}}
            for a in attrs_by_link.get(sid, [])
        ]
        sals = []
        for sal in sal_by_service.get(sid, []):
            loc = locations.get(sal.get("location_id"))
            if loc is None:
                sals.append({**sal, "location": None})
                continue
            loc = {
                **loc,
                "addresses": addr_by_loc.get(loc["id"], []),
                "phones": [ext(p) for p in phones_l.get(loc["id"], [])],
                "schedules": sched_l.get(loc["id"], []),
                "accessibility": acc_by_loc.get(loc["id"], []),
            }
            sals.append({**sal, "schedules": sched_sal.get(sal.get("id"), []), "location": loc})
        service["service_at_locations"] = sals
        yield Item(data=service, file=fname, line=lineno, path="", textual=True)
