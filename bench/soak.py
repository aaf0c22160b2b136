"""Soak test: minutes of mixed reads and writes at concurrency 32 against a real server on
127.0.0.1, counting errors, lost updates and the server's memory.

    .venv/bin/python -m bench.soak --backend sqlite            # 5 minutes, 32 clients, 1 worker
    .venv/bin/python -m bench.soak --backend postgresql --database-url \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test_ops   # its schema is dropped first!
    .venv/bin/python -m bench.soak --duration 60               # shorter

What it does: a new database (SQLite file in a temp dir, or the given PostgreSQL database whose
name must contain "test" or "soak"), migrated and loaded with the demo data; 32 locations get a
large capacity so they can serve as counters; an admin token; then `aid-directory serve` on a free
port of 127.0.0.1 and N client tasks for the duration:

- reads (about 80%): home, search (text, category, filters, htmx fragment) in several languages,
  service pages, API lists and records;
- writes (about 20%): read a counter location's `ETag` and free places, then
  `PATCH /api/v1/locations/{id}/capacity` with `If-Match` and value + 1. A 412 (someone else won
  the race) is an expected conflict, not an error. Every 200 is counted per location.

At the end: errors = transport failures, 5xx and any status other than the expected ones;
lost updates = for each counter, (initial + successful increments) − the value in the database
(nonzero means a write acknowledged with 200 was overwritten); memory = the server process tree's
RSS sampled every 2 s (after a warm-up of 10% of the run: first and last minute medians and the
maximum). Exit status 1 if errors or lost updates are not 0. Results go to bench/out/soak-*.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url, select, text

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
HOST = "127.0.0.1"  # never anything else: this is a load generator
EXPECTED = {200, 201, 202, 301, 302, 303, 304, 404, 412}
MAX_DURATION = 1800.0


@dataclass
class Stats:
    requests: int = 0
    reads: int = 0
    writes_ok: int = 0
    conflicts: int = 0
    errors: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def rss_of_tree(pid: int) -> int:
    """Resident memory (bytes) of a process and all its children, from /proc."""
    total = 0
    pids = [pid]
    try:
        import psutil

        proc = psutil.Process(pid)
        return int(sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]))
    except ImportError:
        pass
    except Exception:  # noqa: BLE001 - the server just went away
        return 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def prepare(url: str, *, counters: int) -> tuple[list[str], list[str], dict[str, int], str]:
    """Migrate, load the demo data, make counter locations and an admin token."""
    from directory.accounts.service import create_account, create_token
    from directory.db import make_engine, make_sessionmaker, session_scope
    from directory.demo.loader import load_demo
    from directory.listings.models import Location, Service, ServiceAtLocation
    from directory.migrate import upgrade

    if not url.startswith("sqlite"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with session_scope(make_sessionmaker(engine)) as session:
        load_demo(session)
        rows = session.execute(
            select(Location.id, ServiceAtLocation.service_id)
            .join(ServiceAtLocation, ServiceAtLocation.location_id == Location.id)
            .where(Location.privacy == "exact")
            .order_by(Location.id)
        ).all()
        services = sorted({str(r.service_id) for r in rows})
        chosen = [r.id for r in rows][:counters]
        initial: dict[str, int] = {}
        for loc in session.execute(select(Location).where(Location.id.in_(chosen))).scalars():
            loc.capacity_maximum = 10_000_000
            loc.capacity_available = 0
            initial[str(loc.id)] = 0
        admin = create_account(
            session,
            email=f"soak-{secrets.token_hex(4)}@example.org",
            password=secrets.token_urlsafe(24),
            role="admin",
        )
        token = create_token(session, account=admin, name="soak").secret
        all_services = [str(s) for s in session.execute(select(Service.id)).scalars()]
    engine.dispose()
    return services or all_services, list(initial), initial, token


def final_values(url: str, ids: list[str]) -> dict[str, int]:
    import uuid

    from directory.db import make_engine
    from directory.listings.models import Location

    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(Location.id, Location.capacity_available).where(
                Location.id.in_([uuid.UUID(i) for i in ids])
            )
        ).all()
    engine.dispose()
    return {str(r.id): int(r.capacity_available or 0) for r in rows}


READ_PATHS = [
    ("/{locale}/", 10),
    ("/{locale}/search?q={term}", 20),
    ("/{locale}/search?category=shelter&open_now=1", 8),
    ("/{locale}/search?q={term}&has_capacity=1&pets=1", 6),
    ("/{locale}/services/{service}", 20),
    ("/api/v1/services?q={term}", 8),
    ("/api/v1/services/{service}", 8),
    ("/api/v1/locations?limit=20", 4),
]
TERMS = ["shelter", "Kharkiv", "Харків", "warming", "food", "lviv", "Одеса", "legal", "charging"]
LOCALES = ["en", "uk", "ru", "pl", "de", "ar"]


async def client_task(
    client: httpx.AsyncClient,
    stats: Stats,
    stop_at: float,
    services: list[str],
    counters: list[str],
    successes: Counter[str],
    token: str,
    write_share: float,
    rng: random.Random,
) -> None:
    paths, weights = zip(*READ_PATHS, strict=True)
    auth = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            if rng.random() < write_share:
                loc = rng.choice(counters)
                r = await client.get(f"/api/v1/locations/{loc}")
                stats.requests += 1
                stats.statuses[r.status_code] += 1
                if r.status_code != 200:
                    stats.error(f"GET location {r.status_code}")
                    continue
                value = int(r.json().get("capacity_available") or 0)
                w = await client.patch(
                    f"/api/v1/locations/{loc}/capacity",
                    json={"available": value + 1},
                    headers={**auth, "If-Match": r.headers["etag"]},
                )
                stats.requests += 1
                stats.statuses[w.status_code] += 1
                if w.status_code == 200:
                    stats.writes_ok += 1
                    successes[loc] += 1
                elif w.status_code == 412:
                    stats.conflicts += 1
                else:
                    stats.error(f"PATCH capacity {w.status_code}: {w.text[:200]}")
            else:
                template = rng.choices(paths, weights)[0]
                url = template.format(
                    locale=rng.choice(LOCALES), term=rng.choice(TERMS), service=rng.choice(services)
                )
                headers = {"HX-Request": "true"} if "search" in url and rng.random() < 0.3 else {}
                r = await client.get(url, headers=headers)
                stats.requests += 1
                stats.reads += 1
                stats.statuses[r.status_code] += 1
                if r.status_code not in EXPECTED or r.status_code >= 500:
                    stats.error(f"GET {template} {r.status_code}")
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            stats.requests += 1
            stats.error(f"{type(exc).__name__}: {str(exc)[:200]}")
        stats.latencies.append(time.perf_counter() - started)


async def sample_memory(pid: int, stop_at: float, samples: list[tuple[float, int]]) -> None:
    start = time.monotonic()
    while time.monotonic() < stop_at:
        samples.append((time.monotonic() - start, rss_of_tree(pid)))
        await asyncio.sleep(2)


async def run_load(
    port: int,
    pid: int,
    duration: float,
    concurrency: int,
    services: list[str],
    counters: list[str],
    token: str,
    write_share: float,
    seed: int,
) -> tuple[Stats, Counter[str], list[tuple[float, int]]]:
    stats, successes = Stats(), Counter[str]()
    samples: list[tuple[float, int]] = []
    stop_at = time.monotonic() + duration
    # Idle connections are dropped by the client after 2 s, before uvicorn's 5 s keep-alive
    # timeout, so that no request is sent on a connection the server is closing (nginx does the
    # same with `keepalive_timeout` on its upstreams).
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(
        base_url=f"http://{HOST}:{port}", timeout=60, limits=limits, follow_redirects=False
    ) as client:
        tasks = [
            client_task(
                client,
                stats,
                stop_at,
                services,
                counters,
                successes,
                token,
                write_share,
                random.Random(seed + i),
            )
            for i in range(concurrency)
        ]
        await asyncio.wait_for(
            asyncio.gather(sample_memory(pid, stop_at, samples), *tasks), timeout=duration + 120
        )
    return stats, successes, samples


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DIRECTORY_DATABASE_URL": url,
        "DIRECTORY_SECRET_KEY": secrets.token_urlsafe(48),
        "DIRECTORY_LOG_FORMAT": "json",
    }
    exe = Path(sys.executable).with_name("aid-directory")
    cmd = [
        str(exe) if exe.exists() else sys.executable,
        *([] if exe.exists() else ["-m", "directory"]),
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,  # noqa: S603
            start_new_session=True,
            cwd=ROOT,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}); see {log}")
        try:
            if httpx.get(f"http://{HOST}:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise SystemExit(f"server not ready after 120 s; see {log}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "DIRECTORY_SOAK_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test_ops"
        ),
    )
    parser.add_argument("--duration", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="server workers (default: 1 on SQLite, 2 on PostgreSQL)",
    )
    parser.add_argument("--write-share", type=float, default=0.2)
    parser.add_argument("--counters", type=int, default=32)
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    duration = min(max(args.duration, 5.0), MAX_DURATION)

    tmp = tempfile.TemporaryDirectory(prefix="aid-soak-")
    if args.backend == "sqlite":
        url = f"sqlite:///{Path(tmp.name) / 'soak.db'}"
        workers = args.workers or 1
    else:
        url = args.database_url
        name = make_url(url).database or ""
        if "test" not in name and "soak" not in name:
            raise SystemExit(
                f"refusing to drop the schema of {name!r}: its name must contain 'test' or 'soak'"
            )
        workers = args.workers or 2
    print(f"preparing {args.backend} database ...", flush=True)
    services, counters, initial, token = prepare(url, counters=args.counters)
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = OUT / f"soak-{args.backend}-server.log"
    proc = start_server(url, port, workers, log)
    print(
        f"server pid {proc.pid} on http://{HOST}:{port}/ ({workers} worker(s)); "
        f"{args.concurrency} clients for {duration:.0f} s ...",
        flush=True,
    )
    started = time.monotonic()
    try:
        stats, successes, samples = asyncio.run(
            run_load(
                port,
                proc.pid,
                duration,
                args.concurrency,
                services,
                counters,
                token,
                args.write_share,
                args.seed,
            )
        )
    finally:
        stop_server(proc)
    elapsed = time.monotonic() - started
    final = final_values(url, counters)
    lost = sum(max(0, initial[c] + successes[c] - final.get(c, 0)) for c in counters)
    phantom = sum(max(0, final.get(c, 0) - initial[c] - successes[c]) for c in counters)
    warm = [rss for t, rss in samples if t >= duration * 0.1 and rss]
    minute = max(1, int(60 / 2))
    mem = {
        "rss_first_minute_mb": round(statistics.median(warm[:minute]) / 2**20, 1) if warm else None,
        "rss_last_minute_mb": round(statistics.median(warm[-minute:]) / 2**20, 1) if warm else None,
        "rss_max_mb": round(max(warm) / 2**20, 1) if warm else None,
    }
    if warm:
        mem["growth_percent"] = round(
            100
            * (mem["rss_last_minute_mb"] - mem["rss_first_minute_mb"])  # type: ignore[operator]
            / mem["rss_first_minute_mb"],
            1,
        )
    lat = sorted(stats.latencies)
    result: dict[str, Any] = {
        "backend": args.backend,
        "workers": workers,
        "concurrency": args.concurrency,
        "duration_s": round(elapsed, 1),
        "requests": stats.requests,
        "reads": stats.reads,
        "writes_ok": stats.writes_ok,
        "conflicts_412": stats.conflicts,
        "errors": stats.errors,
        "lost_updates": lost,
        "phantom_updates": phantom,
        "requests_per_s": round(stats.requests / elapsed, 1),
        "latency_ms": {
            "p50": round(1000 * lat[len(lat) // 2], 1) if lat else None,
            "p95": round(1000 * lat[int(len(lat) * 0.95)], 1) if lat else None,
            "p99": round(1000 * lat[int(len(lat) * 0.99)], 1) if lat else None,
        },
        "memory": mem,
        "statuses": dict(sorted(stats.statuses.items())),
        "error_samples": stats.error_samples,
        "command": "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    out = OUT / f"soak-{args.backend}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    tmp.cleanup()
    return 0 if stats.errors == 0 and lost == 0 and phantom == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
