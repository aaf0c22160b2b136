"""Times `aid-directory export --format hsds-json` and `aid-directory import` of such a file into
a fresh, migrated database, with the peak memory of each process (sampled by psutil) — the export
streams, so its memory should not grow with N (compare the small and the large N).

Beside them, the database's own dump tool on the same rows (`sqlite3 FILE .dump`, `pg_dump` of
the dataset's schema), as the yardstick of issue #16: export ≤ 3× the dump, import ≤ 2× the
export (`ratios`; `bench.report` turns them into budgets). Every row has the wall time and the
process's CPU time (user + system: the machine may be shared, wall times are noisy).

`python -m bench.exchange DATABASE_URL [...]` measures export and dump of existing databases
(no import) and prints the rows and ratios as JSON.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import datasets
from bench.datasets import OUT, Dataset, cli_command

FORMAT = "hsds-json"
ADMIN = "bench-admin@example.org"
#: Issue #16: the export takes at most 3× the database's own dump of the same rows, the import
#: at most 2× the export of the same N.
EXPORT_PER_DUMP = 3.0
IMPORT_PER_EXPORT = 2.0


def _help(command: str) -> str | None:
    proc = subprocess.run(
        [*cli_command(), command, "--help"], capture_output=True, text=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None


_last_cpu: list[float] = [0.0]


def _timed(
    args: list[str], env: dict[str, str], stdout_path: Path | None
) -> tuple[float, float, int, str]:
    """Run a command, sampling its memory; (seconds, peak RSS MiB, exit code, output tail).
    Its CPU time (user + system, from the kernel's accounting of the waited child) is left in
    `_last_cpu[0]`."""
    import psutil  # a bench extra; `ratios` (read by bench.report) works without it

    log = OUT / "exchange.log"
    OUT.mkdir(parents=True, exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    peak = 0
    with log.open("a") as err, stdout_path.open("wb") if stdout_path else log.open("ab") as out:
        err.write(f"$ {' '.join(args)}\n")
        err.flush()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.02)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _last_cpu[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # the kernel's peak for the child beats a sample every 20 ms (short runs)
    peak = max(peak, int(after.ru_maxrss * 1024) if after.ru_maxrss > before.ru_maxrss else 0)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
    return seconds, round(peak / 2**20, 1), proc.returncode, tail


def measure_export(backend: str, ds: Dataset) -> tuple[dict[str, Any], Path | None]:
    """Time `aid-directory export --format hsds-json -o FILE` of the whole directory."""
    base = {"backend": backend, "n": ds.n, "format": FORMAT, "operation": "export"}
    if _help("export") is None:
        return {
            **base,
            "seconds": None,
            "ok": False,
            "detail": "`aid-directory export` is not available in this version",
        }, None
    out_file = OUT / f"export-{backend}-{ds.n}.json"
    env = {**os.environ, "DIRECTORY_DATABASE_URL": ds.url}
    env.pop("DIRECTORY_TEST_DATABASE_URL", None)
    args = [*cli_command(), "export", "--format", FORMAT, "--output", str(out_file)]
    seconds, peak, code, tail = _timed(args, env, None)
    size = out_file.stat().st_size if out_file.exists() else 0
    row = {
        **base,
        "seconds": round(seconds, 2),
        "cpu_s": round(_last_cpu[0], 2),
        "peak_rss_mib": peak,
        "ok": code == 0 and size > 0,
        "detail": f"{size / 2**20:.0f} MiB file" if code == 0 else f"exit {code}: {tail}",
    }
    return row, (out_file if code == 0 else None)


def measure_import(
    backend: str, ds: Dataset, pg_url: str, *, target_n: int
) -> list[dict[str, Any]]:
    """Export N services, then time `aid-directory import --apply --publish` of that file into a
    fresh database. When `ds` is smaller than `target_n`, the figure for `target_n` is
    extrapolated linearly (and said so)."""
    base = {"backend": backend, "n": ds.n, "format": FORMAT, "operation": "import"}
    if _help("import") is None:
        return [
            {
                **base,
                "seconds": None,
                "ok": False,
                "detail": "`aid-directory import` is not available in this version",
            }
        ]
    _row, out_file = measure_export(backend, ds)
    if out_file is None:
        return [{**base, "seconds": None, "ok": False, "detail": "export failed"}]
    rows: list[dict[str, Any]] = []
    target = datasets.empty_database(backend, pg_url, "import_target")
    env = {**os.environ, "DIRECTORY_DATABASE_URL": target}
    env.pop("DIRECTORY_TEST_DATABASE_URL", None)
    # the reference data (gazetteer, categories) a real directory has before any import, and
    # the admin who publishes the import
    subprocess.run(
        [*cli_command(), "generate", "--services", "0"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [*cli_command(), "user", "create", "--email", ADMIN, "--role", "admin", "--password-stdin"],
        env=env,
        input=b"bench-admin-password-0123456789\n",
        check=True,
        capture_output=True,
    )
    args = [
        *cli_command(),
        "import",
        "--format",
        FORMAT,
        "--apply",
        "--publish",
        "--as",
        ADMIN,
        "--source",
        "bench",
        str(out_file),
    ]
    scale = target_n / ds.n

    def row(seconds: float, peak: float, code: int, detail: str) -> dict[str, Any]:
        extra = (
            {}
            if scale == 1
            else {
                "measured_n": ds.n,
                "measured_seconds": round(seconds, 2),
                "extrapolated_to": target_n,
            }
        )
        return {
            **base,
            "n": target_n,
            "seconds": round(seconds * scale, 1),
            "cpu_s": round(_last_cpu[0] * scale, 1),
            "peak_rss_mib": peak,
            "ok": code == 0,
            **extra,
            "detail": detail
            + (
                ""
                if scale == 1
                else f" — measured {seconds:.1f} s for {ds.n:,} services, "
                f"×{scale:g} (linear extrapolation)"
            ),
        }

    try:
        seconds, peak, code, tail = _timed(args, env, None)
        if code == 0:
            rows.append(
                row(seconds, peak, code, "`import --apply --publish` into a fresh database")
            )
        else:
            rows.append(
                {
                    **base,
                    "seconds": None,
                    "ok": False,
                    "detail": f"refused (exit {code}) after {seconds:.1f} s of checking: "
                    + " ".join(tail.split())[:240],
                }
            )
        if code != 0 and "not a valid phone number" in tail:
            dropped = _drop_invalid_phones(out_file)
            seconds, peak, code, tail = _timed(args, env, None)
            rows.append(
                row(
                    seconds,
                    peak,
                    code,
                    f"same file less {dropped} phone numbers the importer refuses "
                    "(generator bug, bench/results/findings.md)"
                    + ("" if code == 0 else f"; exit {code}: {tail[-200:]}"),
                )
            )
    finally:
        datasets.drop_scratch(backend, pg_url, "import_target")
        out_file.unlink(missing_ok=True)
    return rows


def _pg_dump_args(url: str) -> tuple[list[str], dict[str, str], str]:
    """`pg_dump` of the database (and, for a bench dataset, only its schema: the one first on
    the URL's `search_path`) of a SQLAlchemy URL; (arguments, environment, what it dumps)."""
    from sqlalchemy import make_url

    u = make_url(url)
    args = ["pg_dump", "--no-owner", "-f", os.devnull, "-d", u.database or ""]
    if u.host:
        args += ["-h", u.host]
    if u.port:
        args += ["-p", str(u.port)]
    if u.username:
        args += ["-U", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    what = f"database {u.database}"
    options = u.query.get("options")
    option = options if isinstance(options, str) else (options[0] if options else "")
    if "search_path=" in option:
        schema = option.split("search_path=", 1)[1].split(",")[0].split()[0]
        if schema and schema != "public":
            args += ["-n", schema]
            what = f"schema {schema} of {u.database}"
    return args, env, what


def measure_dump(backend: str, ds: Dataset) -> dict[str, Any]:
    """Time the database's own dump of the dataset: `sqlite3 FILE .dump` or `pg_dump` (to
    /dev/null: what the tool itself costs, not the disk)."""
    base = {"backend": backend, "n": ds.n, "format": "sql", "operation": "dump"}
    if backend == "sqlite":
        tool = "sqlite3"
        path = ds.sqlite_path or Path(ds.url.split("sqlite:///", 1)[-1])
        args, env, what = [tool, str(path), ".dump"], dict(os.environ), path.name
        sink: Path | None = Path(os.devnull)
    else:
        tool = "pg_dump"
        args, env, what = _pg_dump_args(ds.url)
        sink = None
    if shutil.which(tool) is None:
        return {**base, "seconds": None, "ok": False, "detail": f"`{tool}` is not installed"}
    seconds, peak, code, tail = _timed(args, env, sink)
    return {
        **base,
        "seconds": round(seconds, 2),
        "cpu_s": round(_last_cpu[0], 2),
        "peak_rss_mib": peak,
        "ok": code == 0,
        "detail": f"`{tool}` of {what} to /dev/null"
        + ("" if code == 0 else f"; exit {code}: {tail[-200:]}"),
    }


def ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per backend and N: export / dump and import / export (wall seconds; CPU beside), with
    the budgets of issue #16."""
    by: dict[tuple[str, int, str], dict[str, Any]] = {}
    for row in rows:
        if row.get("seconds") is not None and row.get("ok", True):
            by.setdefault((row["backend"], row["n"], row["operation"]), row)
    out: list[dict[str, Any]] = []
    for backend, n in sorted({(b, n) for b, n, _ in by}):
        pairs = (
            ("export", "dump", EXPORT_PER_DUMP),
            ("import", "export", IMPORT_PER_EXPORT),
        )
        for top, bottom, limit in pairs:
            a, b = by.get((backend, n, top)), by.get((backend, n, bottom))
            if a is None or b is None or not b["seconds"]:
                continue
            ratio = a["seconds"] / b["seconds"]
            cpu = a["cpu_s"] / b["cpu_s"] if a.get("cpu_s") is not None and b.get("cpu_s") else None
            out.append(
                {
                    "backend": backend,
                    "n": n,
                    "ratio": f"{top}/{bottom}",
                    "value": round(ratio, 2),
                    "cpu_value": None if cpu is None else round(cpu, 2),
                    "limit": limit,
                    "pass": ratio <= limit,
                    "detail": f"{top} {a['seconds']:.2f} s vs {bottom} {b['seconds']:.2f} s"
                    + ("" if cpu is None else f" (CPU {a['cpu_s']:.2f} s vs {b['cpu_s']:.2f} s)")
                    + (" — import extrapolated" if a.get("extrapolated_to") else ""),
                }
            )
    return out


def main(argv: list[str]) -> None:
    """`python -m bench.exchange URL [URL ...]`: export and dump of existing databases."""
    import json

    from bench.datasets import Dataset

    rows: list[dict[str, Any]] = []
    for url in argv:
        backend = "sqlite" if url.startswith("sqlite") else "postgresql"
        count = _count_services(url)
        ds = Dataset(backend=backend, n=count, seed=0, url=url, key="given")
        if backend == "sqlite":
            ds.sqlite_path = Path(url.split("sqlite:///", 1)[1])
        rows.append(measure_dump(backend, ds))
        row, out_file = measure_export(backend, ds)
        rows.append(row)
        if out_file is not None:
            out_file.unlink(missing_ok=True)
    print(json.dumps({"exchange": rows, "ratios": ratios(rows)}, indent=2))


def _count_services(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM service WHERE archived_at IS NULL")).scalar()
    engine.dispose()
    return int(n or 0)


def _drop_invalid_phones(path: Path) -> int:
    """Remove the phone entries `phonenumbers` refuses (the export has one service per line)."""
    import json

    import phonenumbers

    def valid(number: str) -> bool:
        try:
            return phonenumbers.is_valid_number(phonenumbers.parse(number))
        except phonenumbers.NumberParseException:
            return False

    def clean(obj: Any) -> int:
        count = 0
        if isinstance(obj, dict):
            phones = obj.get("phones")
            if isinstance(phones, list):
                kept = [p for p in phones if not isinstance(p, dict) or valid(str(p.get("number")))]
                count += len(phones) - len(kept)
                obj["phones"] = kept
            for value in obj.values():
                count += clean(value)
        elif isinstance(obj, list):
            for value in obj:
                count += clean(value)
        return count

    dropped = 0
    tmp = path.with_suffix(".clean.json")
    with path.open(encoding="utf-8") as src, tmp.open("w", encoding="utf-8") as dst:
        for line in src:
            body = line.rstrip("\n")
            comma = body.endswith(",")
            if body.startswith("{"):
                record = json.loads(body[:-1] if comma else body)
                dropped += clean(record)
                body = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + (
                    "," if comma else ""
                )
            dst.write(body + "\n")
    tmp.replace(path)
    return dropped


if __name__ == "__main__":
    main(sys.argv[1:])
