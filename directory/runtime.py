"""How a served worker process runs: garbage collection and the request thread pool.

`aid-directory serve` runs `directory.app:create_served_app`, i.e. `create_app()` wrapped by
`serving()` below. Tests and embedders that call `create_app()` get neither tuning.

Garbage collection: a worker holds ~220,000 long-lived objects after start-up (SQLAlchemy
mappers, Babel locale data, compiled templates and catalogs). CPython's full (generation 2)
collection walks all of them — measured 140-230 ms on this 2-core machine, once every ~100
requests — which was the periodic stall behind the p50 7 ms / p95 59 ms gap of the home page.
`freeze_heap()` collects once at start-up and moves the survivors to the permanent generation
(`gc.freeze()`), so later full passes walk only what requests leave behind (1-3 ms), and raises
the young-generation threshold so that a request's short-lived objects are mostly freed by
reference counting before a collection runs. Objects created while warming up (templates compiled
on first use, SQL statement caches) are frozen too, after the first requests (`REFREEZE_AT`).

Thread pool: FastAPI runs sync endpoints (all of ours) on AnyIO's worker threads, 40 per process
by default. With 40 threads and 2 cores, concurrent requests fight for the GIL (and SQLite's
locks): each takes longer, the event loop itself starves and throughput falls as concurrency
rises. `serving()` bounds the threads per process (`DIRECTORY_THREADS`; default
`DEFAULT_THREADS`); further requests wait their turn in the event loop, where waiting costs
nothing, and the database pool (`directory.db`) is sized to match.

Admission (`Admission`, installed by `create_app`): a request's dependencies and its endpoint
each take a thread separately, so a request can open its transaction (and take row locks) in
one dependency and then wait for a thread for the next step. When every thread was held by
requests waiting for that request's locks, nothing could move again (issue 18.1: a burst of
writes with one API token froze the server for good). So at most `threads` requests run at
once — the rest wait *before* they start, holding nothing — and the thread pool has at least
that many threads plus `SPARE_THREADS`: a started request always gets a thread, and so always
gets to finish its transaction. `/healthz` and static files are not admitted (they never touch
the database).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("directory.runtime")

#: Young generation collects after 20,000 net allocations (default 700): measured on the search
#: page at 100,000 services, GC time per request 1.25 ms -> 0.55 ms.
GC_THRESHOLD = (20_000, 20, 10)
#: After these many requests, freeze what warming up created (cheap: no collection runs).
REFREEZE_AT = frozenset({50, 500})
#: Request threads per worker process when DIRECTORY_THREADS is 0 (automatic).
DEFAULT_THREADS = 8
#: Threads beyond the admitted requests' (static files, /healthz, anything not admitted).
SPARE_THREADS = 2
#: Paths that run without admission: they never open a transaction.
UNADMITTED_PREFIXES = ("/healthz", "/static/")


def freeze_heap() -> None:
    """Collect once, then exclude every surviving object from future collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def thread_count(configured: int) -> int:
    return configured if configured > 0 else DEFAULT_THREADS


class ServingApp:
    """The ASGI app a served worker runs: `app`, with the thread bound and the heap frozen."""

    def __init__(self, app: ASGIApp, *, threads: int) -> None:
        self.app = app
        self.threads = threads
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The limiter lives in the running event loop, so it is set from inside it (the first
        # call is the lifespan start-up); setting it is idempotent.
        limiter = anyio.to_thread.current_default_thread_limiter()
        if limiter.total_tokens != self.threads + SPARE_THREADS:
            limiter.total_tokens = self.threads + SPARE_THREADS
        if scope["type"] == "http":
            self.requests += 1
            if self.requests in REFREEZE_AT:
                gc.freeze()
        await self.app(scope, receive, send)


class Admission:
    """ASGI middleware: at most `slots` HTTP requests of this process run at once; the others
    wait (fairly, first come first served) before they start, holding no thread, connection or
    lock. Pair it with a thread pool of at least `slots` threads (`ServingApp` does)."""

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots
        # One limiter per event loop (each test client runs its own loop).
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter]
        self._limiters = weakref.WeakKeyDictionary()

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        found = self._limiters.get(loop)
        if found is None:
            found = self._limiters[loop] = anyio.CapacityLimiter(self.slots)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(UNADMITTED_PREFIXES):
            await self.app(scope, receive, send)
            return
        limiter = self._limiter()
        # A borrower per request (not the task: a CapacityLimiter refuses a borrower twice).
        borrower = object()
        await limiter.acquire_on_behalf_of(borrower)
        try:
            await self.app(scope, receive, send)
        finally:
            limiter.release_on_behalf_of(borrower)


def serving(app: ASGIApp, *, threads: int) -> ServingApp:
    """Tune this process for serving `app` (call once per worker, after `create_app`)."""
    freeze_heap()
    log.debug("serving with %d request threads, heap frozen", threads)
    return ServingApp(app, threads=threads)


class HeadAsGet:
    """ASGI middleware: `HEAD` answers wherever `GET` does (RFC 9110 9.3.2), with the GET's
    status and headers (Content-Length, ETag, Cache-Control ...) and no body.

    FastAPI's routes accept only the methods they declare, so `HEAD /en/` was a 405; adding
    HEAD to every route would also put it in the OpenAPI document. The request runs as a GET
    (GET handlers are safe), and the body is dropped on the way out. A method that was not
    allowed for GET stays not allowed: HEAD on a POST-only path is a 405 too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
