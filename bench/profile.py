"""Where does a request's time go? Serves a benchmark database with one worker, loads one URL
with wrk, samples the worker with py-spy meanwhile, and prints the functions with the most
inclusive and self time (our code, SQLAlchemy, Jinja, the database driver...).

    .venv/bin/pip install py-spy
    python -m bench.profile --db sqlite:///bench/out/cache/sqlite-n100000-....db \\
        --path '/en/search?q=help' [--header 'HX-Request: true'] [--seconds 10]
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench.server import our_server, wrk

FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:]+)(?::(?P<line>\d+))?\)$")


def _short(frame: str) -> str:
    m = FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{m['func']} ({path})"


def summarise(raw: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_s)
        frames = [_short(f) for f in stack.split(";")]
        total += count
        for f in set(frames):
            inclusive[f] += count
        leaf[frames[-1]] += count
    if not total:
        return "no samples"
    out = [f"{total} samples", "", "inclusive %  function"]
    out += [f"{100 * n / total:10.1f}  {f}" for f, n in inclusive.most_common(top)]
    out += ["", "self %       function"]
    out += [f"{100 * n / total:10.1f}  {f}" for f, n in leaf.most_common(top)]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, help="DIRECTORY_DATABASE_URL of a benchmark database")
    p.add_argument("--path", required=True, action="append", help="URL path (repeatable)")
    p.add_argument("--header", action="append", default=[], help="'Name: value'")
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--top", type=int, default=40)
    args = p.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy is not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    headers = dict(h.split(": ", 1) for h in args.header)
    server = our_server(args.db, 1, "profile")
    server.start()
    try:
        wrk(server.port, args.path, concurrency=args.concurrency, duration=2, headers=headers)
        assert server.proc is not None
        load = threading.Thread(
            target=wrk,
            args=(server.port, args.path),
            kwargs={
                "concurrency": args.concurrency,
                "duration": args.seconds + 2,
                "headers": headers,
            },
        )
        load.start()
        with tempfile.TemporaryDirectory() as tmp:
            raw = Path(tmp) / "raw.txt"
            subprocess.run(
                [
                    spy,
                    "record",
                    "--pid",
                    str(server.proc.pid),
                    "--duration",
                    str(args.seconds),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--output",
                    str(raw),
                ],
                check=True,
                capture_output=True,
            )
            load.join()
            print(summarise(raw, args.top))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
