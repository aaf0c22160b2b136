"""The production shape, run for real (issue 16): Debian's nginx with the SHIPPED
`deploy/nginx/aid-directory.conf` (TLS with a throwaway certificate) in front of two
`aid-directory serve` processes on one database.

Used by the CI smoke test (tests/ops/test_nginx.py) and by the benchmark (`python -m bench.shape`).
The shipped file is only re-addressed (ports, certificate, cache and log folders): every
replacement must match, so the test fails when the shipped config changes shape.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.net import free_port

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "deploy" / "nginx" / "aid-directory.conf"
HOST = "help.example.org"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _replace(text: str, old: str, new: str) -> str:
    if old not in text:
        raise AssertionError(f"the shipped nginx config no longer contains {old!r}")
    return text.replace(old, new)


def render_config(
    shipped: str,
    *,
    upstreams: list[int],
    http_port: int,
    https_port: int,
    folder: Path,
) -> str:
    """The shipped config with this machine's addresses, ports and folders."""
    servers = "\n    ".join(
        f"server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in upstreams
    )
    text = _replace(shipped, "server 127.0.0.1:8000 max_fails=3 fail_timeout=10s;", servers)
    text = _replace(text, "/var/cache/nginx/aid-directory", str(folder / "cache"))
    text = _replace(
        text, "    listen 80;\n    listen [::]:80;\n", f"    listen 127.0.0.1:{http_port};\n"
    )
    text = _replace(
        text,
        "    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n",
        f"    listen 127.0.0.1:{https_port} ssl http2;\n",
    )
    text = _replace(
        text, "/etc/letsencrypt/live/help.example.org/fullchain.pem", str(folder / "cert.pem")
    )
    text = _replace(
        text, "/etc/letsencrypt/live/help.example.org/privkey.pem", str(folder / "key.pem")
    )
    text = _replace(text, "/var/log/nginx/aid-directory.access.log", str(folder / "access.log"))
    text = _replace(text, "/var/log/nginx/aid-directory.error.log", str(folder / "error.log"))
    return text


def _main_config(folder: Path, static_port: int) -> str:
    temp = folder / "temp"
    user = "user root root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    # Load generators keep their connections (h2load does not reconnect when nginx closes one
    # after its default 1000 requests; browsers would): a benchmark artifact, not a tuning.
    keepalive_requests 1000000;
    include {folder}/aid-directory.conf;
    # The benchmark's floor: the same nginx serving a small file from disk, same TLS.
    server {{
        listen 127.0.0.1:{static_port} ssl http2;
        ssl_certificate {folder}/cert.pem;
        ssl_certificate_key {folder}/key.pem;
        access_log off;
        root {folder}/static;
    }}
}}
"""


def _wait(
    url: str, *, timeout: float, verify: bool = True, headers: dict[str, str] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while True:  # a server coming up: bounded wait for its first answer
        try:
            if httpx.get(url, timeout=2, verify=verify, headers=headers).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.1)


class Shape:
    """nginx + `apps` app processes on `database_url`. `start()`, then requests to `url` with
    `headers` (the Host the config serves), `stop_apps()` to kill the app processes mid-run."""

    def __init__(
        self,
        database_url: str,
        *,
        apps: int = 2,
        threads: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        if NGINX is None:
            raise RuntimeError("nginx is not installed (apt-get install nginx)")
        self.database_url = database_url
        self.folder = Path(tempfile.mkdtemp(prefix="aid-shape-"))
        self.app_ports = [free_port() for _ in range(apps)]
        self.http_port = free_port()
        self.https_port = free_port()
        self.static_port = free_port()
        self.threads = threads
        self.extra_env = dict(env or {})  # e.g. DIRECTORY_DATABASE_REPLICA_URLS
        self.apps: list[subprocess.Popen[bytes]] = []
        self.nginx: subprocess.Popen[bytes] | None = None
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.headers = {"Host": HOST}

    def _certificate(self) -> None:
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN={HOST}", "-keyout", str(self.folder / "key.pem"),
                "-out", str(self.folder / "cert.pem"),
            ],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> Shape:
        """Start the apps and nginx; if anything fails, stop what was started and re-raise."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Shape:
        env = {
            **os.environ,
            "DIRECTORY_DATABASE_URL": self.database_url,
            "DIRECTORY_SECRET_KEY": "shape-test-secret-" + "x" * 40,
            "DIRECTORY_BASE_URL": f"https://{HOST}",
            "DIRECTORY_ALLOWED_HOSTS": HOST,
            "DIRECTORY_HTTPS": "true",
            "FORWARDED_ALLOW_IPS": "127.0.0.1",
        }
        if self.threads:
            env["DIRECTORY_THREADS"] = str(self.threads)
        env.update(self.extra_env)
        for port in self.app_ports:
            log = open(self.folder / f"app-{port}.log", "wb")  # noqa: SIM115 (kept for the process)
            self.apps.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "directory",
                        "serve",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--workers",
                        "1",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            )
        self._certificate()
        (self.folder / "temp").mkdir()
        (self.folder / "aid-directory.conf").write_text(
            render_config(
                SHIPPED.read_text(encoding="utf-8"),
                upstreams=self.app_ports,
                http_port=self.http_port,
                https_port=self.https_port,
                folder=self.folder,
            ),
            encoding="utf-8",
        )
        (self.folder / "static").mkdir()
        # about the size of a compressed results page
        (self.folder / "static" / "file.html").write_bytes(b"<!doctype html><p>" + b"x" * 6000)
        (self.folder / "nginx.conf").write_text(
            _main_config(self.folder, self.static_port), encoding="utf-8"
        )
        assert NGINX is not None
        test = subprocess.run(
            [NGINX, "-t", "-p", str(self.folder), "-c", str(self.folder / "nginx.conf")],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        if test.returncode != 0:
            raise RuntimeError("nginx -t refused the shipped config:\n" + test.stderr)
        self.nginx = subprocess.Popen(
            [NGINX, "-p", str(self.folder), "-c", str(self.folder / "nginx.conf"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for port in self.app_ports:
            _wait(f"http://127.0.0.1:{port}/healthz", timeout=60, headers=self.headers)
        _wait(self.url + "/healthz", timeout=30, verify=False, headers=self.headers)
        return self

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, verify=False, timeout=30)

    def stop_apps(self) -> None:
        for proc in self.apps:
            proc.send_signal(signal.SIGTERM)
        for proc in self.apps:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def stop(self) -> None:
        self.stop_apps()
        if self.nginx is not None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        shutil.rmtree(self.folder, ignore_errors=True)
