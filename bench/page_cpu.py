"""CPU per page for every search type of the benchmark, in-process: the served ASGI app
(`create_served_app`, as `bench.request_cpu`) driven through httpx's ASGI transport, each type
cycling through the same paths the benchmark sends (`bench.scenarios.request_types`).

    DIRECTORY_DATABASE_URL=... DIRECTORY_SECRET_KEY=x... \\
        .venv/bin/python -m bench.page_cpu [-n 60] [--types search_latin,near]

Prints per type the CPU time of this process per request (on SQLite that includes the database
work; on PostgreSQL the server's share is not in it), p50/p95 wall time, and the number of SQL
statements per request. Each type is warmed up first with one pass over its paths (what a
running server has seen before the benchmark measures it). Only reads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from typing import Any

from bench.scenarios import request_types, vocabulary

SEARCH_TYPES = (
    "search_latin",
    "search_cyrillic",
    "search_translit",
    "search_common",
    "search_prefix",
    "search_nomatch",
    "filter",
    "near",
    "fragment",
)


async def _run(n: int, wanted: list[str]) -> None:
    import httpx
    from sqlalchemy import event

    from directory.app import create_served_app

    url = os.environ["DIRECTORY_DATABASE_URL"]
    vocab = vocabulary(url, seed=1)
    types = [t for t in request_types(vocab) if t.name in wanted]
    app: Any = create_served_app()
    counted = [0]
    event.listen(
        app.app.state.engine,
        "before_cursor_execute",
        lambda *_: counted.__setitem__(0, counted[0] + 1),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://localhost"
    ) as client:
        for t in types:
            headers = {"Accept-Encoding": "gzip", **(t.headers or {})}
            for path in t.paths:  # warm-up: one pass
                response = await client.get(path, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}")
            times: list[float] = []
            counted[0] = 0
            cpu = time.process_time()
            for i in range(n):
                started = time.perf_counter()
                await client.get(t.paths[i % len(t.paths)], headers=headers)
                times.append((time.perf_counter() - started) * 1000)
            cpu = time.process_time() - cpu
            q = statistics.quantiles(times, n=100)
            print(
                f"{t.name:16s} CPU {cpu / n * 1000:6.2f} ms/page  p50 {q[49]:6.2f}  "
                f"p95 {q[94]:6.2f} ms  {counted[0] / n:4.1f} statements/page",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=60, help="requests measured per type")
    parser.add_argument("--types", default=",".join(SEARCH_TYPES))
    args = parser.parse_args()
    asyncio.run(_run(args.n, args.types.split(",")))


if __name__ == "__main__":
    main()
