"""Serving-time tuning (`directory.runtime`): the heap is frozen for the garbage collector and the
request threads per worker are bounded."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from directory import runtime
from directory.app import create_served_app


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def _report_threads(scope: Scope, receive: Receive, send: Send) -> None:
    """A bare ASGI app answering with the thread limit of the loop it runs in."""
    if scope["type"] != "http":
        return
    tokens = anyio.to_thread.current_default_thread_limiter().total_tokens
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(tokens).encode()})


def test_freeze_heap_moves_survivors_out_of_collections(restore_gc: None) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    runtime.freeze_heap()
    # Everything alive at start-up (modules, mappers, templates) is no longer walked by a pass.
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold() == runtime.GC_THRESHOLD
    assert len(gc.get_objects()) < gc.get_freeze_count()


def test_serving_app_bounds_the_request_threads(restore_gc: None) -> None:
    served = runtime.serving(_report_threads, threads=3)
    client = TestClient(served)  # no lifespan: the bare app answers http only
    # the admitted requests' threads plus spares for what is not admitted (runtime.Admission)
    assert client.get("/").text == str(3 + runtime.SPARE_THREADS)
    assert served.requests == 1


def test_warm_up_objects_are_frozen_after_the_first_requests(restore_gc: None) -> None:
    served = runtime.ServingApp(_report_threads, threads=2)
    client = TestClient(served)
    for _ in range(min(runtime.REFREEZE_AT) - 1):
        client.get("/")
    gc.unfreeze()
    client.get("/")  # the request that triggers the re-freeze
    assert gc.get_freeze_count() > 0


def test_serve_runs_the_tuned_app(
    restore_gc: None, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DIRECTORY_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("DIRECTORY_THREADS", "5")
    served = create_served_app()
    assert isinstance(served, runtime.ServingApp) and served.threads == 5
    monkeypatch.setenv("DIRECTORY_THREADS", "0")
    assert create_served_app().threads == runtime.DEFAULT_THREADS  # type: ignore[attr-defined]


def test_admission_lets_at_most_slots_requests_run_and_never_holds_back_healthz() -> None:
    """A request waits for admission before it starts (holding nothing); /healthz is not
    admitted, so it answers while every slot is taken."""
    import asyncio

    running = {"now": 0, "most": 0}
    release = asyncio.Event()

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != "/healthz":
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
            await release.wait()
            running["now"] -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    admitted = runtime.Admission(inner, slots=2)

    async def call(path: str) -> None:
        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(_message: object) -> None:
            return None

        await admitted({"type": "http", "path": path, "method": "GET"}, receive, send)  # type: ignore[arg-type]

    async def scenario() -> None:
        tasks = [asyncio.create_task(call("/en/")) for _ in range(6)]
        for _ in range(20):
            await asyncio.sleep(0)
        assert running == {"now": 2, "most": 2}  # four wait for admission
        await asyncio.wait_for(call("/healthz"), timeout=5)  # answers meanwhile
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
        assert running == {"now": 0, "most": 2}

    # In a thread of its own: playwright's sync API (browser tests in the same session) leaves
    # an event loop running in the main thread, where asyncio.run refuses to start.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=60)
