"""In-process timing of the read path's fixed costs, without HTTP or the search SQL: a results
page's cards (20 results) with the places and categories lists, a service page's detail, and the
rendering of both templates. Prints CPU and wall p50/p95 per operation.

    .venv/bin/python -m bench.readpath sqlite:///bench/out/cache/sqlite-n100000-....db
    .venv/bin/python -m bench.readpath 'postgresql+psycopg://postgres@127.0.0.1:5432/test_bench?options=-csearch_path%3Dbench_n100000,public'

Read-only: it opens sessions, reads, and rolls back. The result ids come from `search_services`
for a few of the benchmark's queries (`bench.scenarios.QUERIES`), then only the card building
and rendering are timed, each in a new session (as a request would be).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

QUERIES = [
    ("en", "shelter"),
    ("uk", "укриття"),
    ("en", "demo"),
    ("en", "s"),
    ("pl", "pomoc prawna"),
    ("en", "kharkov"),
]


def _pct(values: list[float], k: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * k))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--reps", type=int, default=10)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)

    from directory import i18n
    from directory.app import create_app
    from directory.config import Settings
    from directory.listings import queries as q
    from directory.listings.cards import build_cards
    from directory.web import pages
    from directory.web.templating import environment

    app = create_app(Settings(database_url=args.database_url, secret_key="x" * 40))
    sessions = app.state.sessionmaker
    env = environment()
    now = dt.datetime.now(dt.UTC)

    def request(path: str) -> Request:
        p, _, query = path.partition("?")
        return Request(
            {
                "type": "http",
                "method": "GET",
                "path": p,
                "raw_path": p.encode(),
                "query_string": query.encode(),
                "headers": [(b"host", b"localhost")],
                "app": app,
                "scheme": "http",
                "server": ("localhost", 80),
                "root_path": "",
            }
        )

    found: list[tuple[q.SearchParams, list[Any]]] = []
    with sessions() as db:
        for locale, text in QUERIES:
            params = q.SearchParams(q=text, locale=locale, now=now)
            ids = [c.id for c in q.search_services(db, params, stale_after_days=30).items]
            found.append((params, ids))

    def timed(fn: Callable[[Any], Any]) -> tuple[float, float, Any]:
        with sessions() as db:
            c0, w0 = time.process_time(), time.perf_counter()
            out = fn(db)
            cpu, wall = (time.process_time() - c0) * 1000, (time.perf_counter() - w0) * 1000
            db.rollback()
        return cpu, wall, out

    results: dict[str, list[tuple[float, float]]] = {}

    def record(name: str, cpu: float, wall: float) -> None:
        results.setdefault(name, []).append((cpu, wall))

    for rep in range(args.reps + 1):
        for params, ids in found:
            i18n.set_locale(params.locale)

            def page(db: Any, params: q.SearchParams = params, ids: list[Any] = ids) -> Any:
                q.list_places(db, locale=params.locale)
                q.list_categories(db, locale=params.locale)
                return build_cards(db, ids, params=params, now=now, stale_after_days=30, loc=[])

            cpu, wall, _cards = timed(page)
            if rep:
                record("cards page (20) + places + categories", cpu, wall)
            for sid in ids[:5]:
                cpu, wall, _detail = timed(
                    lambda db, sid=sid, loc=params.locale: q.get_service_detail(
                        db, sid, locale=loc, now=now, stale_after_days=30
                    )
                )
                if rep:
                    record("service detail", cpu, wall)
        # rendering (context built once per page, outside the timing)
        for params, ids in found[:3]:
            loc = params.locale
            i18n.set_locale(loc)
            path = f"/{loc}/search?q={params.q}"
            with sessions() as db:
                req = request(path)
                ctx = {
                    "request": req,
                    **pages.search_context(
                        db, req, locale=loc, now=now, settings=app.state.settings
                    ),
                }
                sreq = request(f"/{loc}/services/{ids[0]}")
                sctx = {
                    "request": sreq,
                    **pages.service_context(
                        db,
                        sreq,
                        locale=loc,
                        service_id=ids[0],
                        now=now,
                        settings=app.state.settings,
                    ),
                }
            for name, template, context in (
                ("render search.html", "search.html", ctx),
                ("render service.html", "service.html", sctx),
            ):
                c0, w0 = time.process_time(), time.perf_counter()
                env.get_template(template).render(context)
                if rep:
                    record(
                        name, (time.process_time() - c0) * 1000, (time.perf_counter() - w0) * 1000
                    )
    for name, values in results.items():
        cpu = [c for c, _ in values]
        wall = [w for _, w in values]
        print(
            f"{name:40s} n={len(values):4d}  "
            f"cpu p50 {_pct(cpu, 0.5):6.2f} p95 {_pct(cpu, 0.95):6.2f}"
            f"  | wall p50 {_pct(wall, 0.5):6.2f} p95 {_pct(wall, 0.95):6.2f} ms"
        )


if __name__ == "__main__":
    main()
