"""Servers under test (ours through `aid-directory serve`, and Datasette), their readiness and
memory, and the load generator (wrk) run against them. Everything listens on 127.0.0.1 only."""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.datasets import OUT, cli_command
from bench.net import HOST, free_port

WRK_LUA = Path(__file__).resolve().parent / "wrk.lua"


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]


class Client:
    """A tiny keep-alive HTTP client for probing (not for load: wrk does that)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        for attempt in range(2):
            try:
                self.conn.request("GET", path, headers=headers or {})
                resp = self.conn.getresponse()
                body = resp.read()
                return Response(resp.status, body, {k.lower(): v for k, v in resp.getheaders()})
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


class Server:
    """A server process group started in its own session, stopped by its process group id."""

    def __init__(
        self, name: str, args: list[str], env: dict[str, str], port: int, ready_path: str
    ) -> None:
        self.name, self.args, self.env, self.port, self.ready_path = (
            name,
            args,
            env,
            port,
            ready_path,
        )
        self.log = OUT / f"server-{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> float:
        OUT.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                self.args,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.proc.returncode}):\n{self.log_tail()}"
                )
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
                conn.request("GET", self.ready_path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def processes(self) -> list[psutil.Process]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # our own session, started above
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self.proc = None


def our_server(database_url: str, workers: int, name: str) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "DIRECTORY_DATABASE_URL": database_url,
        "DIRECTORY_SECRET_KEY": secrets.token_urlsafe(48),
        "DIRECTORY_LOG_FORMAT": "text",
    }
    for key in ("DIRECTORY_TEST_DATABASE_URL", "DIRECTORY_DEBUG", "DIRECTORY_DEMO"):
        env.pop(key, None)
    args = [*cli_command(), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    return Server(name, args, env, port, "/readyz")


def datasette_server(db_path: Path, page_size: int) -> Server:
    port = free_port()
    exe = Path(cli_command()[0]).parent / "datasette"
    args = [
        str(exe),
        "serve",
        "-i",
        str(db_path),
        "-h",
        HOST,
        "-p",
        str(port),
        # generous to Datasette: no facet suggestions, our page size, no time-outs turned errors
        "--setting",
        "suggest_facets",
        "off",
        "--setting",
        "default_page_size",
        str(page_size),
        "--setting",
        "sql_time_limit_ms",
        "30000",
    ]
    return Server("datasette", args, dict(os.environ), port, "/-/versions.json")


class MemorySampler:
    """Samples the server's process tree while load runs: peak RSS sum and peak PSS sum."""

    def __init__(self, server: Server, interval: float = 1.0) -> None:
        self.server, self.interval = server, interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.peak_worker_rss = 0
        self.processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        rss = pss = 0
        procs = self.server.processes()
        for proc in procs:
            try:
                info = proc.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            self.peak_worker_rss = max(self.peak_worker_rss, info.rss)
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)
        self.processes = max(self.processes, len(procs))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def as_dict(self) -> dict[str, float]:
        mib = 1024 * 1024
        return {
            "peak_rss_total_mib": round(self.peak_rss / mib, 1),
            "peak_pss_total_mib": round(self.peak_pss / mib, 1),
            "peak_rss_largest_process_mib": round(self.peak_worker_rss / mib, 1),
            "processes": self.processes,
        }


def wrk(
    port: int,
    paths: list[str],
    *,
    concurrency: int,
    duration: float,
    headers: dict[str, str] | None = None,
    seed: int = 1,
    base_url: str | None = None,
) -> dict[str, object]:
    """Drive 127.0.0.1:port (or `base_url`, e.g. https through nginx) with wrk (keep-alive,
    random path per request) and return its figures."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        paths_file = Path(tmp) / "paths"
        paths_file.write_text("\n".join(paths) + "\n")
        out_file = Path(tmp) / "out.json"
        threads = 1 if concurrency < 4 else 2
        args = [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(concurrency),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_LUA),
        ]
        for name, value in (headers or {}).items():
            args += ["-H", f"{name}: {value}"]
        args.append(base_url or f"http://{HOST}:{port}")
        env = {
            **os.environ,
            "BENCH_PATHS": str(paths_file),
            "BENCH_OUT": str(out_file),
            "BENCH_SEED": str(seed),
        }
        proc = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=duration + 60, check=False
        )
        if proc.returncode != 0 or not out_file.exists():
            raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
        raw = json.loads(out_file.read_text())
    if not raw["requests"]:  # nothing completed within the duration: no latency to report
        return {
            "requests": 0,
            "rps": 0.0,
            "p50_ms": None,
            "p90_ms": None,
            "p95_ms": None,
            "p99_ms": None,
            "max_ms": None,
            "mean_ms": None,
            "errors": 1,
            "errors_by_kind": {"no_request_completed": 1},
            "bytes_per_request": 0,
        }
    lat = raw["latency_us"]
    errors = raw["errors"]
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": lat["p50"] / 1000,
        "p90_ms": lat["p90"] / 1000,
        "p95_ms": lat["p95"] / 1000,
        "p99_ms": lat["p99"] / 1000,
        "max_ms": lat["max"] / 1000,
        "mean_ms": round(lat["mean"] / 1000, 3),
        "errors": sum(errors.values()),
        "errors_by_kind": {k: v for k, v in errors.items() if v},
        "bytes_per_request": round(raw["bytes"] / raw["requests"]) if raw["requests"] else 0,
    }
