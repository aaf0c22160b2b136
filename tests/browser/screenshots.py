"""README screenshots of the public pages (home, results, service; en, uk, ar; phone and desktop),
made from headless Chromium against a throw-away demo server: `./dev screenshots`."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server
from tests.conftest import ROOT

OUT = ROOT / "docs" / "screenshots"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1200, "height": 900}


def shoot(only: set[str] | None = None) -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        base, ids, server, thread = start_server(Path(tmp) / "shots.db")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for size_name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                    ctx = browser.new_context(
                        viewport=viewport, device_scale_factor=1, service_workers="block"
                    )
                    page = ctx.new_page()
                    for locale in ("en", "uk", "ar"):
                        page.goto(f"{base}/{locale}/search?category=heat-power")
                        first = page.locator("ol.cards h3 a").first
                        service = base + (first.get_attribute("href") or f"/{locale}/")
                        shots = {
                            "home": f"{base}/{locale}/",
                            "results": f"{base}/{locale}/search?category=heat-power",
                            "service": service,
                        }
                        for name, url in shots.items():
                            if size_name == "desktop" and name != "results":
                                continue  # the README shows every page on a phone, results wide
                            target = OUT / f"{name}-{locale}-{size_name}.png"
                            if only and target.stem not in only:
                                continue
                            page.goto(url)
                            page.screenshot(path=str(target), full_page=False)
                            written.append(target)
                    ctx.close()
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    return written


if __name__ == "__main__":
    for path in shoot(set(sys.argv[1:]) or None):
        print(path.relative_to(ROOT), path.stat().st_size, "bytes")
