"""Static files with content-hashed names: `/static/css/site.css` is served as
`/static/css/site.<hash>.css` with `Cache-Control: immutable`, so a new release never meets a
stale copy. Hashes are computed once at startup; templates call `static("css/site.css")`."""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

log = logging.getLogger("directory.web")

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


#: Compressed once at startup (level 9: it costs nothing per request), if it saves something.
GZIP_MIN_BYTES = 500


@dataclass(frozen=True)
class Asset:
    url: str
    body: bytes
    media_type: str
    gzipped: bytes | None = None


class Manifest:
    """Logical name → hashed URL, and hashed name → file contents (small files, kept in memory)."""

    def __init__(self, root: Path = STATIC_DIR, prefix: str = "/static/") -> None:
        self.prefix = prefix
        self.urls: dict[str, str] = {}
        self.assets: dict[str, Asset] = {}
        self.missing: set[str] = set()
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            name = path.relative_to(root).as_posix()
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:12]
            stem, dot, ext = name.rpartition(".")
            hashed = f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"
            media = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if media.startswith("text/") or media in ("application/javascript", "image/svg+xml"):
                media += "; charset=utf-8"
            self.urls[name] = prefix + hashed
            self.assets[hashed] = Asset(prefix + hashed, body, media, _gzipped(body, media))

    def url(self, name: str) -> str:
        """The hashed URL of a static file.

        A missing file is logged, and its plain URL returned (the browser gets a 404 for it):
        a page, above all an error page, never fails because a static file is absent.
        """
        url = self.urls.get(name)
        if url is None:
            if name not in self.missing:
                self.missing.add(name)
                log.error("static file missing from the package: %s", name)
            return self.prefix + name
        return url

    def optional(self, name: str) -> str | None:
        """The hashed URL of an enhancement (htmx), or None: the template leaves it out."""
        url = self.urls.get(name)
        if url is None and name not in self.missing:
            self.missing.add(name)
            log.warning("static file missing from the package: %s (pages work without it)", name)
        return url

    async def serve(self, request: Request) -> Response:
        """From memory, on the event loop (no thread hop), gzip-compressed at startup."""
        asset = self.assets.get(request.path_params["name"])
        if asset is None:
            raise HTTPException(status_code=404)
        headers = {"Cache-Control": IMMUTABLE}
        if asset.gzipped is None:
            return Response(asset.body, media_type=asset.media_type, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            # Content-Encoding set: the GZip middleware passes the answer through as it is.
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
            return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
        # The middleware adds "Vary: Accept-Encoding" to this one (it is over its minimum size).
        return Response(asset.body, media_type=asset.media_type, headers=headers)


def _gzipped(body: bytes, media_type: str) -> bytes | None:
    compressible = media_type.startswith(
        ("text/", "application/javascript", "application/json", "image/svg+xml")
    )
    if not compressible or len(body) < GZIP_MIN_BYTES:
        return None
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    return packed if len(packed) < len(body) else None
