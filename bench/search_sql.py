"""Time the SQL part of search pages (ids, count, suggestion; not the cards) in-process.

    .venv/bin/python -m bench.search_sql URL [--reps 8] [--only near]

URL: a benchmark database (`bench/out/cache/sqlite-n100000-*.db` as
`sqlite:///file:PATH?mode=ro&uri=true`, or PostgreSQL with `search_path` set to a `bench_n*`
schema). Runs every query of `scenarios.QUERIES` plus the category + region filters and the
near-me searches the benchmark builds (and open-now ones), each `--reps` times after one warm-up,
and prints per request the median and worst wall time and the median CPU time of this process
(on SQLite that includes the database work; on PostgreSQL the server's is not), the statement
count and the total. Only reads.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bench.scenarios import QUERIES, vocabulary
from directory.listings import queries as q
from directory.search import service as search_service

NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def cases(url: str) -> list[tuple[str, q.SearchParams]]:
    vocab = vocabulary(url, seed=1)
    out = [
        (f"{name}:{text}", q.SearchParams(q=text, locale=loc))
        for name, items in QUERIES.items()
        for loc, text in items
    ]
    out += [
        (f"filter:{c}/{r}", q.SearchParams(category=c, place=r))
        for c in vocab.categories
        for r in vocab.regions
    ]
    near = [(round(lat, 2), round(lon, 2)) for lat, lon in vocab.cities]
    out += [(f"near:{a},{b}", q.SearchParams(near=(a, b), sort="distance")) for a, b in near]
    out += [
        (
            f"near+cat:{a},{b}",
            q.SearchParams(near=(a, b), sort="distance", category=vocab.categories[0]),
        )
        for a, b in near[:2]
    ]
    out += [
        ("open_now", q.SearchParams(open_now=True)),
        ("open_now+shelter", q.SearchParams(q="shelter", open_now=True)),
        (
            "open_now+cat/region",
            q.SearchParams(open_now=True, category=vocab.categories[0], place=vocab.regions[0]),
        ),
    ]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--reps", type=int, default=8)
    p.add_argument("--only", default="")
    args = p.parse_args()
    engine = create_engine(args.url)
    counted: list[int] = [0]

    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_a: Any) -> None:
        counted[0] += 1

    search_service.build_cards = lambda *_a, **_k: []  # type: ignore[assignment]  # SQL only
    worst = 0.0
    for label, params in cases(args.url):
        if args.only not in label:
            continue
        params = q.SearchParams(**{**params.__dict__, "now": NOW})
        wall, cpu = [], []
        for rep in range(args.reps + 1):
            with Session(engine) as session:
                counted[0] = 0
                t0, c0 = time.perf_counter(), time.process_time()
                res = q.search_services(session, params, stale_after_days=90)
                if rep:  # the first run warms caches
                    wall.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
        worst = max(worst, max(wall))
        total = f"{'' if res.total_exact else '>'}{res.total}"
        print(
            f"{label:34s} p50 {statistics.median(wall):6.1f}  max {max(wall):6.1f}  "
            f"cpu {statistics.median(cpu):5.1f} ms  {counted[0]:2d} statements  total {total}",
            flush=True,
        )
    print(f"worst {worst:.1f} ms")


if __name__ == "__main__":
    main()
