"""Times `aid-directory export --format hsds-json` and `aid-directory import` of that file into a
fresh, migrated database, with the peak memory of each process (sampled by psutil) — the export
should stream, so its memory should not grow with N (compare with a small N)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil

from bench import datasets
from bench.datasets import OUT, Dataset, cli_command

FORMAT = "hsds-json"


def _help(command: str) -> str | None:
    proc = subprocess.run([*cli_command(), command, "--help"], capture_output=True, text=True,
                          check=False)
    return proc.stdout if proc.returncode == 0 else None


def _timed(args: list[str], env: dict[str, str], stdout_path: Path | None) -> tuple[float, float, int, str]:
    """Run a command, sampling its memory; (seconds, peak RSS MiB, exit code, output tail)."""
    log = OUT / "exchange.log"
    started = time.perf_counter()
    peak = 0
    with log.open("a") as err, (stdout_path.open("wb") if stdout_path else log.open("ab")) as out:
        err.write(f"$ {' '.join(args)}\n")
        err.flush()
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err)
        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
    seconds = time.perf_counter() - started
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:])
    return seconds, round(peak / 2**20, 1), proc.returncode, tail


def measure(backend: str, ds: Dataset, pg_url: str) -> list[dict[str, Any]]:
    base = {"backend": backend, "n": ds.n, "format": FORMAT}
    export_help, import_help = _help("export"), _help("import")
    if export_help is None:
        return [{**base, "operation": "export", "seconds": None, "ok": False,
                 "detail": "`aid-directory export` is not available in this version"}]
    rows: list[dict[str, Any]] = []
    out_file = OUT / f"export-{backend}-{ds.n}.json"
    env = {**os.environ, "DIRECTORY_DATABASE_URL": ds.url}
    args = [*cli_command(), "export", "--format", FORMAT]
    to_stdout = "--output" not in export_help
    if not to_stdout:
        args += ["--output", str(out_file)]
    seconds, peak, code, tail = _timed(args, env, out_file if to_stdout else None)
    size = out_file.stat().st_size if out_file.exists() else 0
    rows.append({**base, "operation": "export", "seconds": round(seconds, 2), "peak_rss_mib": peak,
                 "ok": code == 0 and size > 0,
                 "detail": f"{size / 2**20:.1f} MiB file" if code == 0 else f"exit {code}: {tail}"})
    if import_help is None:
        rows.append({**base, "operation": "import", "seconds": None, "ok": False,
                     "detail": "`aid-directory import` is not available in this version"})
        return rows
    if code != 0:
        return rows
    target = datasets.empty_database(backend, pg_url, "import_target")
    env = {**os.environ, "DIRECTORY_DATABASE_URL": target}
    args = [*cli_command(), "import"]
    if "--format" in import_help:
        args += ["--format", FORMAT]
    args.append(str(out_file))
    try:
        seconds, peak, code, tail = _timed(args, env, None)
        rows.append({**base, "operation": "import", "seconds": round(seconds, 2),
                     "peak_rss_mib": peak, "ok": code == 0,
                     "detail": "into a fresh migrated database" if code == 0
                     else f"exit {code}: {tail}"})
    finally:
        datasets.drop_scratch(backend, pg_url, "import_target")
        out_file.unlink(missing_ok=True)
    return rows
