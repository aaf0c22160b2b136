"""The export formats by name: a generator of bytes, a media type and a file suffix each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.orm import Session

from directory.exchange.csv_simple import export_csv
from directory.exchange.geojson import export_geojson
from directory.exchange.hsds_csv import export_hsds_csv
from directory.exchange.hsds_json import export_hsds_json
from directory.exchange.hxl import export_hxl
from directory.exchange.records import ExportOptions


@dataclass(frozen=True)
class ExportFormat:
    name: str
    produce: Callable[[Session, ExportOptions], Iterator[bytes]]
    media_type: str
    suffix: str


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("hsds-json", export_hsds_json, "application/json", ".json"),
        ExportFormat("hsds-csv", export_hsds_csv, "application/zip", ".zip"),
        ExportFormat("hxl", export_hxl, "text/csv; charset=utf-8", ".hxl.csv"),
        ExportFormat("geojson", export_geojson, "application/geo+json", ".geojson"),
        ExportFormat("csv", export_csv, "text/csv; charset=utf-8", ".csv"),
    )
}


def export(session: Session, name: str, options: ExportOptions) -> Iterator[bytes]:
    """The chunks of one export (raises KeyError for an unknown format)."""
    return EXPORT_FORMATS[name].produce(session, options)
