"""What one whole request costs in-process: the served ASGI app (`create_served_app`: frozen heap,
bounded request threads, every middleware) driven through httpx's ASGI transport, no network.

    DIRECTORY_DATABASE_URL=sqlite:////tmp/copy-of-bench.db DIRECTORY_SECRET_KEY=x... \\
        .venv/bin/python -m bench.request_cpu '/en/search?q=shelter' \
            [-n 300] [-c 32] [--profile out.prof]

Prints p50/p95 latency, CPU time per request of this process (the figure that decides throughput
on a shared machine: other processes' load changes the latency, much less the CPU), and how many
database connections were opened while measuring. `-c N` runs N requests at a time (as wrk
does). `--profile` runs the request threads' work on the event loop instead (cProfile sees one
thread only) and writes a pstats file: `python -c "import pstats;
pstats.Stats('out.prof').sort_stats('cumtime').print_stats(40)"`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any


async def _run(path: str, n: int, concurrency: int, profile: str | None) -> None:
    import httpx
    from sqlalchemy import event

    from directory.app import create_served_app

    app: Any = create_served_app()
    connects = [0]
    event.listen(
        app.app.state.engine, "connect", lambda *_: connects.__setitem__(0, connects[0] + 1)
    )
    headers = {"Accept-Encoding": "gzip"}
    times: list[float] = []
    sizes: list[int] = []

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://localhost",  # a local name: DIRECTORY_ALLOWED_HOSTS unset
    ) as client:

        async def worker(count: int, record: bool) -> None:
            for _ in range(count):
                started = time.perf_counter()
                response = await client.get(path, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: HTTP {response.status_code}")
                if record:
                    times.append((time.perf_counter() - started) * 1000)
                    sizes.append(len(response.content))

        await asyncio.gather(
            *(worker(max(1, 30 // concurrency), False) for _ in range(concurrency))
        )
        connects[0] = 0
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(n // concurrency, True) for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)
    done = len(times)
    q = statistics.quantiles(times, n=100)
    print(
        f"{path} c={concurrency} n={done}: p50 {q[49]:.2f} ms, p95 {q[94]:.2f} ms, "
        f"{done / wall:.0f} req/s, CPU {cpu / done * 1000:.2f} ms/request, "
        f"{connects[0]} connections opened, {max(sizes)} bytes of body (decoded)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("-n", type=int, default=300, help="requests measured (after 30 to warm up)")
    parser.add_argument("-c", type=int, default=1, help="requests at a time")
    parser.add_argument("--profile", help="write a cProfile of the measured requests here")
    args = parser.parse_args()
    if args.profile:
        import anyio.to_thread

        async def inline(func: Any, *fargs: Any, **_kw: Any) -> Any:
            return func(*fargs)

        anyio.to_thread.run_sync = inline  # type: ignore[assignment]
        if args.c != 1:
            parser.error("--profile runs one request at a time")
    asyncio.run(_run(args.path, args.n, args.c, args.profile))


if __name__ == "__main__":
    main()
