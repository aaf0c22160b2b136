"""How long `aid-directory import --apply --publish` holds SQLite's write lock.

Builds a 10,000-service file (`aid-directory generate` into a scratch database, then `export`),
imports it into a fresh database while a probe tries `BEGIN IMMEDIATE` (busy timeout 0) every
50 ms, and prints the import's wall time and the longest stretch during which no other writer
could get the write lock.

    .venv/bin/python -m bench.import_lock [--services 10000] [--workdir /tmp/import-lock]
        [--code DIR]   # import with the code in DIR (e.g. a worktree of an older commit)
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    # The working directory comes first on sys.path: run from the code to measure.
    subprocess.run(
        [sys.executable, "-m", "directory", *args],
        env=env,
        check=True,
        input=stdin,
        text=True,
        stdout=subprocess.DEVNULL,
        cwd=env.get("PYTHONPATH"),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/import-lock"))
    parser.add_argument("--code", type=Path, help="run the import with the package in this dir")
    args = parser.parse_args()
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    source, target, data = work / "source.db", work / "target.db", work / "services.json"
    base = {**os.environ, "DIRECTORY_SECRET_KEY": "bench-" + "k" * 40}
    if not data.exists():
        src = {**base, "DIRECTORY_DATABASE_URL": f"sqlite:///{source}"}
        source.unlink(missing_ok=True)
        _cli(src, "migrate")
        _cli(src, "generate", "--services", str(args.services))
        _cli(src, "export", "--format", "hsds-json", "--output", str(data))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    env = {**base, "DIRECTORY_DATABASE_URL": f"sqlite:///{target}"}
    if args.code:
        env["PYTHONPATH"] = str(args.code)
    _cli(env, "migrate")
    _cli(
        env,
        "user",
        "create",
        "--email",
        "admin@example.org",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long enough password\n",
    )

    stop = threading.Event()
    longest = [0.0]

    def probe() -> None:
        conn = sqlite3.connect(target, timeout=0, isolation_level=None)
        blocked_since: float | None = None
        while not stop.is_set():
            now = time.monotonic()
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                blocked_since = None
            except sqlite3.OperationalError:
                blocked_since = blocked_since or now
                longest[0] = max(longest[0], now - blocked_since)
            stop.wait(0.05)
        conn.close()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    started = time.monotonic()
    _cli(env, "import", str(data), "--apply", "--publish", "--as", "admin@example.org")
    took = time.monotonic() - started
    stop.set()
    thread.join(timeout=5)
    print(
        f"{args.services} services: import {took:.1f} s, write lock held at most "
        f"{longest[0]:.1f} s at a stretch"
    )


if __name__ == "__main__":
    main()
