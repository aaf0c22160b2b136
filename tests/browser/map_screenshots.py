"""Screenshots of the maps (docs/maps.md): the map view of a result list and a service page's
map and directions, at 360 and 320 px in en, uk and ar with JavaScript off (the drawn map), and
the interactive map at 360 px with JavaScript on. Against a throw-away demo server:
`.venv/bin/python -m tests.browser.map_screenshots`."""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server
from tests.conftest import ROOT

OUT = ROOT / "docs" / "screenshots" / "maps"


def shoot() -> list[Path]:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        base, ids, server, thread = start_server(Path(tmp) / "shots.db")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for js in (False, True):
                    for width in (360, 320):
                        if js and width == 320:
                            continue
                        ctx = browser.new_context(
                            viewport={"width": width, "height": 740},
                            device_scale_factor=1,
                            service_workers="block",
                            java_script_enabled=js,
                        )
                        page = ctx.new_page()
                        for locale in ("en", "uk", "ar"):
                            page.goto(f"{base}/{locale}/search?view=map&category=shelter")
                            if js:
                                page.wait_for_selector("figure.map.live[data-loaded]")
                                page.wait_for_timeout(500)  # the outlines' fetch
                            page.evaluate(
                                "document.querySelector('.count').scrollIntoView({block: 'start'})"
                            )
                            name = "live" if js else "map"
                            target = OUT / f"{name}-{locale}-{width}.png"
                            page.screenshot(path=str(target))
                            written.append(target)
                            if js:
                                continue
                            href = page.locator("ol.cards h3 a").first.get_attribute("href")
                            page.goto(base + str(href))
                            page.evaluate(
                                "document.querySelector('.location')"
                                ".scrollIntoView({block: 'start'})"
                            )
                            target = OUT / f"service-{locale}-{width}.png"
                            page.screenshot(path=str(target))
                            written.append(target)
                        ctx.close()
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    return written


if __name__ == "__main__":
    for path in shoot():
        print(path.relative_to(ROOT), path.stat().st_size, "bytes")
