"""Map data at scale: times of `/{locale}/search/map-data` and of the map view's page against an
existing database (e.g. 100,000 generated services), in-process (no network), median of 5.

    DIRECTORY_DATABASE_URL=sqlite:////tmp/map100k.db .venv/bin/python -m bench.maps
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import time

CASES = (
    ("world, zoom 3", "bbox=-180,-85,180,85&z=3"),
    ("Ukraine, zoom 6", "bbox=22,44,40.5,52.5&z=6"),
    ("a region, zoom 9", "bbox=35.5,49.5,37,50.5&z=9"),
    ("a city, zoom 13", "bbox=36.15,49.95,36.35,50.05&z=13"),
    ("shelters, Ukraine, zoom 6", "category=shelter&bbox=22,44,40.5,52.5&z=6"),
    ("words 'shelter', Ukraine, zoom 6", "q=shelter&bbox=22,44,40.5,52.5&z=6"),
    ("open now, Ukraine, zoom 6", "open_now=1&bbox=22,44,40.5,52.5&z=6"),
)


def main() -> None:
    from fastapi.testclient import TestClient

    from directory.app import create_app
    from directory.config import Settings

    settings = Settings(secret_key="bench-" + "k" * 40)
    client = TestClient(create_app(settings))
    print(f"database: {settings.database_url}")
    print("| request | median ms | answer | bytes gzip |")
    print("| --- | --- | --- | --- |")
    for name, query in CASES:
        url = f"/en/search/map-data?{query}"
        times = []
        for _ in range(5):
            start = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200, r.text
        body = r.json()
        shape = (
            f"{body['total']} places: {len(body['points'])} points, "
            f"{len(body['clusters'])} clusters"
        )
        size = len(gzip.compress(json.dumps(body).encode(), 6))
        print(f"| {name} | {statistics.median(times):.0f} | {shape} | {size} |")
    for url in ("/en/search?view=map", "/en/search?view=map&category=shelter"):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        size = len(gzip.compress(r.content, 6))
        print(f"| page {url} | {statistics.median(times):.0f} | HTML | {size} |")
    print(f"(cpus: {os.cpu_count()})")


if __name__ == "__main__":
    main()
