"""The performance benchmark: `./dev bench` (= `python -m bench.run`).

For each backend (SQLite, PostgreSQL) and each size N it builds (or reuses) a database with
`aid-directory migrate` + `aid-directory generate --services N --seed S`, starts the real server
as production would (`aid-directory serve --workers W`, uvicorn, on 127.0.0.1 only), waits for
/readyz, probes every request type, then drives each one with wrk at each concurrency for a
bounded duration. At the largest N on SQLite it also serves a copy of the same data with
Datasette (FTS5 over service names and descriptions) and measures its search the same way; at
the largest N it times `aid-directory export` / `import` (HSDS JSON). It writes
`bench/results/results-<date>.json`, `bench/results/summary.md` and `bench/results/p95.png`
and checks the budgets of issue 7. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench import datasets, report
from bench.datasets import OUT, ROOT
from bench.scenarios import LABELS, RequestType, probe, request_types, vocabulary
from bench.server import Client, MemorySampler, datasette_server, our_server, wrk

RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test_bench"


def log(message: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="./dev bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,100000", help="numbers of services (N)")
    p.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql")
    p.add_argument("--duration", type=int, default=4, help="seconds of load per measurement")
    p.add_argument("--concurrency", default="1,8,32", help="concurrent connections")
    p.add_argument("--workers", type=int, default=2, help="uvicorn workers (aid-directory serve)")
    p.add_argument("--seed", type=int, default=1, help="generator seed")
    p.add_argument("--only", default="", help="comma-separated request types (default: all)")
    p.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG),
                   help="PostgreSQL database for the benchmark (schemas bench_* are replaced)")
    p.add_argument("--no-datasette", action="store_true", help="skip the Datasette comparison")
    p.add_argument("--no-exchange", action="store_true", help="skip import/export timing")
    p.add_argument("--no-gzip", action="store_true",
                   help="do not send Accept-Encoding: gzip (browsers do; it is the default)")
    p.add_argument("--rebuild", action="store_true", help="rebuild cached databases")
    p.add_argument("--max-minutes", type=float, default=90, help="stop measuring after this")
    p.add_argument("--note", default="", help="free text kept in the results (e.g. other load)")
    p.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    p.add_argument("--from-json", type=Path, help="only re-render summary and plot from a JSON")
    p.add_argument("--readme", action="store_true",
                   help="with --from-json: also write the README's Performance section")
    return p.parse_args(argv)


def machine() -> dict[str, Any]:
    import psutil

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("uvicorn", "fastapi", "sqlalchemy", "psycopg", "datasette", "jinja2"):
        with contextlib.suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    wrk_v = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    out["wrk"] = (wrk_v.stdout or wrk_v.stderr).split("[")[0].replace("wrk", "").strip()
    return out


def git_commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip()


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        self.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        self.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
        self.only = {t.strip() for t in args.only.split(",") if t.strip()}
        self.deadline = time.monotonic() + args.max_minutes * 60
        self.build_log = OUT / "build.log"
        self.gzip = {} if args.no_gzip else {"Accept-Encoding": "gzip"}
        self.results: dict[str, Any] = {
            "meta": {
                "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "commit": git_commit(),
                "machine": machine(),
                "versions": versions(),
                "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
                "options": {
                    "sizes": self.sizes, "backends": self.backends,
                    "concurrency": self.concurrency, "duration_s": args.duration,
                    "workers": args.workers, "seed": args.seed, "gzip": not args.no_gzip,
                    "load_generator": "wrk (keep-alive; one random path of the type per request)",
                },
                "note": args.note,
            },
            "datasets": [], "servers": [], "runs": [], "types": {}, "datasette": {},
            "exchange": [], "skipped": [],
        }

    # --- helpers ---------------------------------------------------------------------------

    def out_of_time(self, what: str) -> bool:
        if time.monotonic() > self.deadline:
            self.results["skipped"].append(f"{what}: --max-minutes reached")
            log(f"skipped {what}: out of time")
            return True
        return False

    def save_partial(self) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "partial.json").write_text(json.dumps(self.results, indent=1, default=str))

    def measure(self, port: int, t: RequestType, where: dict[str, Any],
                target: list[dict[str, Any]]) -> None:
        headers = {**self.gzip, **t.headers}
        # warm-up (discarded): caches, connection pools, the template of this page
        wrk(port, t.paths, concurrency=1, duration=1,
            headers=headers, seed=self.args.seed)
        for c in self.concurrency:
            figures = wrk(port, t.paths, concurrency=c, duration=self.args.duration,
                          headers=headers, seed=self.args.seed)
            row = {**where, "type": t.name, "concurrency": c, **figures,
                   "load_average_1m": round(os.getloadavg()[0], 2)}
            target.append(row)
            log(f"  {t.name:16} c={c:<3} p50 {report.fmt(figures['p50_ms']):>7}  p95 "
                f"{report.fmt(figures['p95_ms']):>7}  p99 {report.fmt(figures['p99_ms']):>7} ms  "
                f"{figures['rps']:8.1f} req/s  errors {figures['errors']}")

    # --- the parts ---------------------------------------------------------------------------

    def dataset(self, backend: str, n: int) -> datasets.Dataset | None:
        log(f"{backend} N={n}: database (cached by N, seed, migration head, generator)")
        try:
            if backend == "sqlite":
                ds = datasets.sqlite_dataset(n, self.args.seed, rebuild=self.args.rebuild,
                                             log=self.build_log)
            else:
                ds = datasets.postgres_dataset(self.args.pg_url, n, self.args.seed,
                                               rebuild=self.args.rebuild, log=self.build_log)
        except (RuntimeError, OSError) as exc:
            self.results["skipped"].append(f"{backend} N={n}: database not built: {exc}")
            log(f"  database not built: {exc}")
            return None
        self.results["datasets"].append({
            "backend": backend, "n": n, "key": ds.key, "built_now": ds.built_now,
            **{k: round(v, 1) for k, v in ds.timings.items()},
            "size_mib": round(ds.size_bytes / 2**20, 1),
        })
        log(f"  {'built' if ds.built_now else 'cached'}: {ds.key} "
            + " ".join(f"{k}={v:.1f}" for k, v in ds.timings.items()))
        return ds

    def our_side(self, ds: datasets.Dataset) -> list[RequestType]:
        name = f"{ds.backend}-{ds.n}"
        server = our_server(ds.url, self.args.workers, name)
        startup = server.start()
        log(f"  server ready in {startup:.1f} s (workers={self.args.workers}, port {server.port})")
        types: list[RequestType] = []
        try:
            client = Client(server.port)
            vocab = vocabulary(ds.url, seed=self.args.seed)
            types = request_types(vocab)
            if self.only:
                types = [t for t in types if t.name in self.only or t.name.startswith("search")
                         and "search" in self.only]
            floor = probe(client, types)
            client.close()
            if floor is not None:
                types.insert(0, floor)
            self.results["types"].setdefault(name, {})
            for t in types:
                self.results["types"][name][t.name] = {
                    "label": t.label, "group": t.group, "paths": t.paths[:12],
                    "path_count": len(t.paths), "headers": t.headers,
                    "available": t.available, "note": t.note, "probe": t.probe,
                }
                if not t.available:
                    log(f"  {t.name:16} unavailable: {t.note}")
            where = {"backend": ds.backend, "n": ds.n}
            with MemorySampler(server) as mem:
                for t in types:
                    if t.available and not self.out_of_time(f"{name} {t.name}"):
                        self.measure(server.port, t, where, self.results["runs"])
            self.results["servers"].append({
                **where, "workers": self.args.workers, "startup_s": round(startup, 2),
                **mem.as_dict(),
            })
            log(f"  memory: {mem.as_dict()}")
        finally:
            server.stop()
        return types

    def datasette_side(self, ds: datasets.Dataset, ours: list[RequestType]) -> None:
        if shutil.which("datasette") is None and not (Path(sys.executable).parent / "datasette").exists():
            self.results["skipped"].append("datasette: not installed (pip install -e '.[bench]')")
            return
        log(f"datasette N={ds.n}: copy with an FTS5 table over service name/description")
        started = time.perf_counter()
        copy = datasets.datasette_copy(ds)
        prepare = time.perf_counter() - started
        server = datasette_server(copy, page_size=20)
        startup = server.start()
        db = copy.stem
        types = []
        for t in ours:
            if t.name.startswith("search_") and t.available:
                paths = []
                for path in t.paths:
                    q = path.split("q=", 1)[1] if "q=" in path else ""
                    paths.append(f"/{quote(db)}/service?_search={q}")
                types.append(RequestType(t.name, t.label, "search", paths))
        types.insert(0, RequestType("static", LABELS["static"], "floor",
                                    ["/-/static/app.css"]))
        runs: list[dict[str, Any]] = []
        try:
            client = Client(server.port)
            for t in types:
                statuses: dict[int, int] = {}
                for path in t.paths:
                    resp = client.get(path)
                    statuses[resp.status] = statuses.get(resp.status, 0) + 1
                t.probe = {"statuses": statuses}
                t.available = statuses.get(200, 0) > 0
            client.close()
            with MemorySampler(server) as mem:
                for t in types:
                    if t.available and not self.out_of_time(f"datasette {t.name}"):
                        self.measure(server.port, t, {"backend": "datasette", "n": ds.n}, runs)
        finally:
            server.stop()
        self.results["datasette"] = {
            "n": ds.n, "prepare_s": round(prepare, 1), "startup_s": round(startup, 2),
            "command": " ".join(a for a in server.args[1:] if a not in (
                "-h", "-p", "127.0.0.1", str(server.port))).replace(str(copy), "copy.db"),
            "types": {t.name: {"paths": t.paths[:12], "probe": t.probe} for t in types},
            "memory": mem.as_dict(), "runs": runs,
        }

    def exchange(self, backend: str, ds: datasets.Dataset) -> None:
        """Time `aid-directory export --format hsds-json` and `import` of the same file."""
        from bench import exchange

        log(f"{backend} N={ds.n}: export / import (HSDS JSON)")
        rows = exchange.measure(backend, ds, self.args.pg_url)
        for row in rows:
            log(f"  {row}")
        self.results["exchange"].extend(rows)

    def run(self) -> dict[str, Any]:
        largest = max(self.sizes)
        for backend in self.backends:
            if backend == "postgresql":
                reason = datasets.pg_available(self.args.pg_url)
                if reason:
                    self.results["skipped"].append(f"postgresql: {reason}")
                    log(f"postgresql skipped: {reason}")
                    continue
            for n in self.sizes:
                if self.out_of_time(f"{backend} N={n}"):
                    continue
                ds = self.dataset(backend, n)
                if ds is None:
                    continue
                log(f"{backend} N={n}: load")
                try:
                    ours = self.our_side(ds)
                except RuntimeError as exc:
                    self.results["skipped"].append(f"{backend} N={n}: {exc}")
                    log(f"  failed: {exc}")
                    continue
                if backend == "sqlite" and n == largest and not self.args.no_datasette:
                    self.datasette_side(ds, ours)
                if n == largest and not self.args.no_exchange and not self.out_of_time("exchange"):
                    self.exchange(backend, ds)
                self.save_partial()
        self.results["meta"]["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.results["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        return self.results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
        report.write(results, args.out, json_name=None)
        if args.readme:
            section = report.readme_section(results, json_name=args.from_json.name)
            report.update_readme(ROOT / "README.md", section)
        return 0
    if shutil.which("wrk") is None:
        print("Error: wrk (the load generator) is not installed\n"
              "Hint: `./dev bench` installs it (apt-get install wrk)", file=sys.stderr)
        return 2
    bench = Bench(args)
    per = len(bench.concurrency) * args.duration + 1
    log(f"benchmark: sizes {bench.sizes}, backends {bench.backends}, "
        f"concurrency {bench.concurrency}, {args.duration:g} s each "
        f"(~{per * 13 / 60:.1f} min of load per backend and size, plus database builds)")
    try:
        results = bench.run()
    except KeyboardInterrupt:
        bench.save_partial()
        print("interrupted: partial results in bench/out/partial.json", file=sys.stderr)
        return 130
    report.write(results, args.out, json_name=f"results-{dt.date.today().isoformat()}.json")
    return 0 if report.all_passed(results) is not False else 1


if __name__ == "__main__":
    sys.exit(main())
