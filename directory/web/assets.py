"""The pinned front-end files in static/vendor: committed, and refreshed from npm by `./dev setup`.

htmx comes from the `htmx.org` npm package at the version pinned in package.json and
package-lock.json, and is served from our own origin, never from a CDN. Its minified file (52 KB,
Zero-Clause BSD: `htmx.LICENSE.txt` beside it) is COMMITTED in `directory/web/static/vendor/`,
so every way of building the package — `pip install .`, a wheel, an sdist, the Dockerfile, a
`git archive` — carries it without Node or a build hook; a package without it would have no
enhancement and, before, answered every page with a 500. To move to another version: change
package.json, `npm install`, `./dev setup` (this module copies the new file over the committed
one), commit both. `tests/web/test_assets.py` fails when the committed file is not the one
package-lock.json pins.

htmx is an enhancement only: a page (and above all an error page) renders without it.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = Path(__file__).resolve().parent / "static"
VENDOR = STATIC / "vendor"
#: vendored file -> (npm package, file in it)
VENDOR_FILES = {
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    # the interactive map (map view only; docs/maps.md): Leaflet (BSD-2-Clause) and
    # protomaps-leaflet (BSD-3-Clause) to draw a PMTiles base map; neither uses eval or blob:
    # workers, so the site's Content-Security-Policy stays as it is
    "leaflet.js": ("leaflet", "dist/leaflet.js"),
    "leaflet.css": ("leaflet", "dist/leaflet.css"),
    "protomaps-leaflet.js": ("protomaps-leaflet", "dist/protomaps-leaflet.js"),
}


def pinned_version(package: str, lock: Path = ROOT / "package-lock.json") -> str:
    """The version of `package` that package-lock.json pins."""
    return str(
        json.loads(lock.read_text(encoding="utf-8"))["packages"][f"node_modules/{package}"][
            "version"
        ]
    )


def vendored_version(name: str = "htmx.min.js") -> str | None:
    """The version written inside the committed minified htmx (`version:"2.0.11"`)."""
    path = VENDOR / name
    if not path.is_file():
        return None
    match = re.search(r'version:"([^"]+)"', path.read_text(encoding="utf-8"))
    return match[1] if match else None


def build() -> None:
    """Copy the npm-pinned files over the committed ones when node_modules has them."""
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, (package, inner) in VENDOR_FILES.items():
        source = ROOT / "node_modules" / package / inner
        target = VENDOR / name
        if not source.exists():
            if target.exists():
                continue  # the committed copy is the pinned one (a test checks)
            sys.exit(f"missing {source}: run `npm ci` first (./dev setup does)")
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
            print(
                f"static/vendor/{name}: updated from {package}@{pinned_version(package)}: commit it"
            )
    # the country outlines of the maps, from world-atlas (directory/maps/build.py)
    from directory.maps import build as outlines

    if outlines.SOURCE.exists():
        outlines.build()


if __name__ == "__main__":
    build()
