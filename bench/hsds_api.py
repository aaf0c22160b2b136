"""Figures of the HSDS API (docs/api.md, "The HSDS API"):

1. `GET /hsds/services?format=ndjson&full=true` of the whole directory: wall time, lines,
   bytes, and the serving process's peak memory (psutil, sampled every 50 ms; its memory
   before the request for comparison) — the stream is built in keyset batches, so memory
   should not grow with the directory.
2. An incremental sync of 100 changes: 100 services changed through the ORM (so `updated_at`
   moves as with any write), then `client.download(..., modified_after=...)` — what
   `aid-directory import URL --modified-after` reads: pages, bytes on the wire, ms.

Usage (one SQLite database made by `aid-directory generate --services N`):

    DIRECTORY_DATABASE_URL=sqlite:////tmp/g.db python -m bench.hsds_api [--sync-only]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time

import httpx
import psutil

from bench.net import HOST, free_port


def _serve(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DIRECTORY_DATABASE_URL": database_url,
        "DIRECTORY_SECRET_KEY": secrets.token_urlsafe(48),
    }
    args = [sys.executable, "-m", "directory", "serve", "--host", HOST, "--port", str(port)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def _tree_rss(pid: int) -> int:
    proc = psutil.Process(pid)
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def _cpu(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def ndjson(base: str, pid: int) -> dict[str, object]:
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(pid))
            time.sleep(0.05)

    httpx.get(base + "/hsds/services", params={"per_page": 1}, timeout=120)  # warm up
    before = _tree_rss(pid)
    cpu_before = _cpu(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = size = wire = 0
    started = time.perf_counter()
    with httpx.stream(
        "GET",
        base + "/hsds/services",
        params={"format": "ndjson", "full": "true"},
        timeout=3600,
    ) as r:
        assert r.status_code == 200, r.status_code
        for line in r.iter_lines():
            if line:
                lines += 1
                size += len(line.encode()) + 1
        wire = r.num_bytes_downloaded
    seconds = time.perf_counter() - started
    cpu = _cpu(pid) - cpu_before
    done.set()
    sampler.join()
    return {
        "services": lines,
        "seconds": round(seconds, 1),
        "server_cpu_seconds": round(cpu, 1),
        "mb": round(size / 1e6, 1),
        "wire_mb": round(wire / 1e6, 1),
        "rss_before_mb": round(before / 2**20),
        "rss_peak_mb": round(peak[0] / 2**20),
    }


def sync_100(base: str, database_url: str) -> dict[str, object]:
    from sqlalchemy import select

    from directory.db import make_engine, make_sessionmaker, session_scope, utcnow
    from directory.hsds_api.client import download
    from directory.listings import models as m

    since = utcnow() - dt.timedelta(seconds=1)
    engine = make_engine(database_url)
    with session_scope(make_sessionmaker(engine)) as session:
        ids = list(session.scalars(select(m.Service.id).where(m.Service.archived_at.is_(None))))
        for sid in random.Random(15).sample(ids, 100):
            svc = session.get(m.Service, sid)
            assert svc is not None
            svc.alternate_name = f"changed {utcnow():%H:%M:%S}"
    engine.dispose()
    query = since.isoformat().replace("+00:00", "Z")
    started = time.perf_counter()
    got = download(base + "/hsds/", modified_after=query)
    ms = (time.perf_counter() - started) * 1000
    got.path.unlink(missing_ok=True)
    one = httpx.get(
        base + "/hsds/services",
        params={"modified_after": query, "full": "true", "per_page": 100},
        timeout=120,
    )
    return {
        "changed": got.services,
        "pages": got.pages,
        "bytes": got.bytes,
        "ms": round(ms),
        "one_page_wire_bytes": one.num_bytes_downloaded,
        "one_page_ms": round(one.elapsed.total_seconds() * 1000),
    }


def main() -> None:
    url = os.environ["DIRECTORY_DATABASE_URL"]
    proc, base = _serve(url)
    try:
        out = {} if "--sync-only" in sys.argv else {"ndjson": ndjson(base, proc.pid)}
        out["sync_100"] = sync_100(base, url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
