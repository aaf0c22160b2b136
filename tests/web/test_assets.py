"""The pinned front-end files travel with the package; no page depends on an optional one.

A package built without ./dev (`pip install .`, a wheel) used to lack htmx, and the error page,
which needed it, turned every answer into a bare 500.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

from directory.web import assets
from directory.web.templating import manifest

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_htmx_is_the_one_package_lock_pins() -> None:
    pinned = assets.pinned_version("htmx.org")
    assert assets.vendored_version("htmx.min.js") == pinned
    assert "Zero-Clause BSD" in (assets.VENDOR / "htmx.LICENSE.txt").read_text(encoding="utf-8")
    if (ROOT / ".git").exists():  # committed, so every build carries it (not made by ./dev only)
        tracked = subprocess.run(
            ["git", "ls-files", "directory/web/static/vendor"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.split()
        assert {
            "directory/web/static/vendor/htmx.min.js",
            "directory/web/static/vendor/htmx.LICENSE.txt",
        } <= set(tracked)
    from_npm = ROOT / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
    if from_npm.exists():  # ./dev setup ran: byte for byte the npm package's file
        assert (assets.VENDOR / "htmx.min.js").read_bytes() == from_npm.read_bytes()


def test_pages_and_error_pages_render_without_htmx_or_a_stylesheet(client, monkeypatch) -> None:
    urls = manifest().urls
    monkeypatch.delitem(urls, "vendor/htmx.min.js")
    monkeypatch.delitem(urls, "css/site.css")
    page = client.get("/en/about")
    assert page.status_code == 200
    assert "htmx" not in re.sub(r"htmx-config|hx-[a-z-]+", "", page.text.split("</head>")[0])
    assert 'href="/static/css/site.css"' in page.text  # a plain URL: the page still renders
    missing = client.get("/en/no-such-page")
    assert missing.status_code == 404 and "<h1" in missing.text
    wrong_method = client.post("/en/about")
    assert wrong_method.status_code == 405 and "<h1" in wrong_method.text


def test_a_wheel_built_from_the_repository_serves_pages_and_error_pages(tmp_path: Path) -> None:
    """`pip wheel .` (no ./dev, no node_modules copy), installed into a fresh venv, run from
    outside the repository: a page, a 404 page and htmx itself answer (one SQLite file: this is
    about packaging, not the database)."""
    from directory.migrate import upgrade

    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=300,
        cwd=tmp_path,
    )
    [wheel] = wheels.glob("aid_directory-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "directory/web/static/vendor/htmx.min.js" in names
    assert "directory/web/static/vendor/htmx.LICENSE.txt" in names

    # A fresh venv with the wheel alone; its dependencies come from this venv (no download).
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    site = next((env_dir / "lib").glob("python3.*/site-packages"))
    ours = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "fastapi").exists())
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    (site / "deps.pth").write_text(ours + "\n")

    database = tmp_path / "wheel.db"
    upgrade(f"sqlite:///{database}")  # the schema (a wheel carries no migrations folder)
    script = textwrap.dedent(f"""
        import directory, re
        assert directory.__file__.startswith({str(site)!r}), directory.__file__
        from fastapi.testclient import TestClient
        from directory.app import create_app
        from directory.config import Settings
        app = create_app(Settings(database_url="sqlite:///{database}", secret_key="k" * 40))
        with TestClient(app) as c:
            page = c.get("/en/about")
            assert page.status_code == 200, page.status_code
            htmx = re.search(r'src="(/static/vendor/htmx[^"]+)"', page.text).group(1)
            assert c.get(htmx).status_code == 200
            missing = c.get("/uk/no-such-page")
            assert missing.status_code == 404 and "<h1" in missing.text, missing.status_code
        print("ok")
    """)
    run = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stdout + run.stderr
