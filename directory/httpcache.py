"""Conditional GET for anonymous readers: an ETag known BEFORE the page or list is built.

A public page is a function of the code, the published data, the time (open now, notices in
force, "updated 3 days ago"), the URL and the host. So its validator is a hash of:

- `code_token()`: our version and the content of every template, catalog and module of the
  package (a deploy of other code is another token; every worker computes the same one);
- `data_version(session)` (`directory.listings.generation`): changes with every write to public
  data, in the writer's transaction. It is read FIRST, before anything else of the response, so
  the body can only be newer than the token, never older;
- the current minute. The answer itself is made with the real time, so whatever starts with a
  write (a new notice) shows at once — the write changed the data version — and what starts or
  ends by the clock alone (a scheduled notice, opening hours) reaches a reader who revalidates at
  the latest when the minute is over, which is also when the answer's max-age runs out;
- the path with its query string, the host, and whether htmx asked for a fragment.

If the reader's If-None-Match holds that tag, the answer is 304 with no body — without running
the search or rendering the template. Otherwise the page is built and sent with the tag.

The tags are WEAK (`W/"…"`): the same tag covers the gzip and the identity encoding of a page and
the service page's report form token (signed with the second it was made); a weak tag is exactly
"semantically the same", and If-None-Match uses the weak comparison anyway.

Only anonymous requests (no Cookie, no Authorization) get a tag and `Cache-Control: public`;
requests with credentials get neither (`directory.security` marks them `no-store`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from directory import __version__
from directory.listings.refcache import version as data_version  # read once per transaction

PACKAGE = Path(__file__).resolve().parent
_CODE_SUFFIXES = (".py", ".html", ".mo", ".css", ".js", ".svg", ".json")


@cache
def code_token() -> str:
    """A hash of this version's code, templates, catalogs and static files (once per process)."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in _CODE_SUFFIXES and path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def anonymous(request: Request) -> bool:
    """No cookie and no Authorization header: a reader whose pages may be shared and cached."""
    headers = request.headers
    return "cookie" not in headers and "authorization" not in headers


def this_minute(now: dt.datetime | None = None) -> dt.datetime:
    """The current minute (UTC, seconds dropped): the "now" of everything a cached answer shows."""
    return (now or dt.datetime.now(dt.UTC)).replace(second=0, microsecond=0)


def seconds_left(minute: dt.datetime, now: dt.datetime | None = None) -> int:
    """Seconds until `minute` is over (at least 1): how long an answer made for it stays fresh."""
    end = minute + dt.timedelta(minutes=1)
    return max(1, int((end - (now or dt.datetime.now(dt.UTC))).total_seconds()))


def public_cache(minute: dt.datetime | None, *, max_age: int = 60) -> str:
    """Cache-Control of an anonymous answer: fresh until its minute ends (or `max_age`)."""
    if minute is not None:
        max_age = min(max_age, seconds_left(minute))
    return f"public, max-age={max_age}"


#: Query parameters that carry the reader's position (the web's `near`, the API's `lat`/`lon`).
POSITION_PARAMS = ("near", "lat", "lon")


def reader_cache(request: Request, minute: dt.datetime | None, *, max_age: int = 60) -> str:
    """`public_cache`, except for a URL that holds the reader's position: `private`, so the
    reader's own browser may keep the page but no shared cache stores it (the nginx microcache
    would keep the URL, and so where a reader was, in its files on disk)."""
    value = public_cache(minute, max_age=max_age)
    if any(request.query_params.get(p) for p in POSITION_PARAMS):
        return value.replace("public", "private", 1)
    return value


def make_etag(session: Session, request: Request, *, minute: dt.datetime | None) -> str | None:
    """The tag of the answer to `request`, or None for a request with credentials.

    `minute`: the minute the answer is made for (None: the answer does not depend on time).
    """
    if not anonymous(request):
        return None
    version = data_version(session)
    url = request.url
    parts = (
        code_token(),
        version,
        minute.isoformat() if minute is not None else "-",
        url.netloc,
        url.path,
        url.query,
        request.headers.get("hx-request", ""),
        request.headers.get("hx-history-restore-request", ""),
    )
    return 'W/"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def matches(request: Request, etag: str | None) -> bool:
    """If-None-Match holds `etag` (weak comparison, RFC 9110 13.1.2) or `*`."""
    if etag is None:
        return False
    header = request.headers.get("if-none-match")
    if not header:
        return False
    opaque = etag.removeprefix("W/")
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == opaque:
            return True
    return False


def not_modified(
    etag: str,
    *,
    cache_control: str,
    vary: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """304: no body; the validators and caching headers the full answer would have carried."""
    out = dict(headers or {})
    out["ETag"] = etag
    out["Cache-Control"] = cache_control
    if vary:
        out["Vary"] = vary
    return Response(status_code=304, headers=out)
