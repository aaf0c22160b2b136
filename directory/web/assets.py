"""Copies pinned front-end files from node_modules into static/vendor (run by `./dev setup`).

htmx comes from the `htmx.org` npm package at the version pinned in package-lock.json; it is
served from our own origin, never from a CDN, and not committed to the repository.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = Path(__file__).resolve().parent / "static"
VENDOR_FILES = {"htmx.min.js": ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"}


def build() -> None:
    vendor = STATIC / "vendor"
    vendor.mkdir(parents=True, exist_ok=True)
    for name, source in VENDOR_FILES.items():
        if not source.exists():
            sys.exit(f"missing {source}: run `npm ci` first (./dev setup does)")
        target = vendor / name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)


if __name__ == "__main__":
    build()
