"""Times `aid-directory export --format hsds-json` and `aid-directory import` of such a file into
a fresh, migrated database, with the peak memory of each process (sampled by psutil) — the export
streams, so its memory should not grow with N (compare the small and the large N)."""

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
ADMIN = "bench-admin@example.org"


def _help(command: str) -> str | None:
    proc = subprocess.run(
        [*cli_command(), command, "--help"], capture_output=True, text=True, check=False
    )
    return proc.stdout if proc.returncode == 0 else None


def _timed(
    args: list[str], env: dict[str, str], stdout_path: Path | None
) -> tuple[float, float, int, str]:
    """Run a command, sampling its memory; (seconds, peak RSS MiB, exit code, output tail)."""
    log = OUT / "exchange.log"
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
            time.sleep(0.05)
    seconds = time.perf_counter() - started
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
