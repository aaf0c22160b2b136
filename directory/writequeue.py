"""The SQLite write queue: one writer at a time per process.

SQLite has one writer at a time. Write requests of this process queue here (fairly, without
holding a thread or the database lock) instead of in SQLite's busy handler, where a writer starved
of CPU can hold the lock past other writers' busy timeout. `SecurityMiddleware` runs every
non-safe request through `run_queued` when the database is SQLite.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("directory.security")

#: Seconds a write request waits for its turn before it is answered 503.
WRITE_GATE_TIMEOUT = 30.0


class WriteGate:
    """One asyncio.Lock per event loop (test clients each run their own loop)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        found = self._locks.get(loop)
        if found is None:
            found = self._locks[loop] = asyncio.Lock()
        return found


async def run_queued(
    gate: WriteGate,
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    refuse: Callable[[Send], Awaitable[None]],
) -> None:
    """Run a write request once the body is in (a slow client never holds the gate) and this
    process's previous writes are done; `refuse(send)` answers when the wait times out."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return  # the client went away before sending its body
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return await receive()

    lock = gate.lock()
    try:
        await asyncio.wait_for(lock.acquire(), timeout=WRITE_GATE_TIMEOUT)
    except TimeoutError:
        log.warning("write queue full: waited %ss", WRITE_GATE_TIMEOUT)
        await refuse(send)
        return
    try:
        await app(scope, replay, send)
    finally:
        lock.release()
