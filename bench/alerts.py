"""Alert feed figures (docs/alerts.md): CPU per poll of a 500-message CAP feed, and the time from a
feed change to the alert on a reader's page.

    python -m bench.alerts                       # SQLite in a temporary folder
    python -m bench.alerts --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test_bench_alerts

The feed is an Atom index of N embedded CAP messages (fictional), served by `python -m http.server`
in its own process (so the CPU figures are the watcher's alone; it answers If-Modified-Since with
304). Polls: the first (every message new), an unchanged one (304), and one with a single new entry.
Latency: the real app (uvicorn) and the watcher (`alerts watch`, interval --interval) run; the feed
starts an alert and a reader's page is fetched until it shows it. The database schema is dropped and
rebuilt for PostgreSQL: use a database whose name contains "test".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REGIONS = [
    "UA-05",
    "UA-07",
    "UA-12",
    "UA-14",
    "UA-18",
    "UA-21",
    "UA-23",
    "UA-26",
    "UA-32",
    "UA-35",
    "UA-46",
    "UA-48",
    "UA-51",
    "UA-53",
    "UA-56",
    "UA-59",
    "UA-61",
    "UA-63",
    "UA-65",
    "UA-68",
    "UA-71",
    "UA-74",
    "UA-77",
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cap_message(n: int, region: str, sent: dt.datetime) -> str:
    t = sent.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    exp = (sent + dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>BENCH-{n}</identifier>
<sender>bench@demo.example</sender><sent>{t}</sent><status>Actual</status><msgType>Alert</msgType>
<scope>Public</scope><info><language>uk-UA</language><category>Safety</category>
<event>Тривога {n}</event>
<urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
<expires>{exp}</expires>
<headline>Демо-тривога {n}</headline>
<description>Вигадане повідомлення для вимірювання.</description>
<area><areaDesc>{region}</areaDesc><geocode><valueName>ISO3166-2</valueName><value>{region}</value>
</geocode></area>
</info><info><language>en-US</language><category>Safety</category><event>Alert {n}</event>
<urgency>Immediate</urgency>
<severity>Severe</severity><certainty>Observed</certainty><expires>{exp}</expires>
<headline>Demo alert {n}</headline>
<area><areaDesc>{region}</areaDesc><geocode><valueName>ISO3166-2</valueName><value>{region}</value>
</geocode></area>
</info></alert>"""


BASE = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)


def write_index(path: Path, count: int, *, start: int = 0) -> None:
    """Entries start..start+count-1; the same entry is the same bytes in every version."""
    now = BASE
    entries = []
    for i in range(start, start + count):
        sent = now + dt.timedelta(seconds=i)
        entries.append(
            f"<entry><id>urn:bench:{i}</id><title>Demo {i}</title>"
            f"<updated>{sent.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>"
            '<content type="application/xml">'
            f"{cap_message(i, REGIONS[i % len(REGIONS)], sent)}</content></entry>"
        )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>urn:bench</id><title>Demo feed</title><updated>2026-12-03T00:00:00Z</updated>"
        + "".join(entries)
        + "</feed>",
        encoding="utf-8",
    )
    stamp = time.time() + start  # a new Last-Modified for each version of the file
    os.utime(path, (stamp, stamp))


def prepare(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from directory.db import make_engine
    from directory.listings.places import ensure_places
    from directory.migrate import upgrade

    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s, s.begin():
        ensure_places(s)
    engine.dispose()


def cpu_polls(url: str, folder: Path, count: int) -> dict[str, float]:
    from directory.alerts.sources import Feed
    from directory.alerts.watcher import poll_all
    from directory.db import make_engine, make_sessionmaker

    index = folder / "index.atom"
    write_index(index, count)
    port = _port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],  # noqa: S603
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        feed = Feed(url=f"http://127.0.0.1:{port}/index.atom")
        out: dict[str, float] = {}
        with httpx.Client(timeout=30) as client:
            for label, change in (
                ("first poll, all new", None),
                ("unchanged (304)", None),
                ("one new entry", count),
            ):
                if change is not None:
                    write_index(index, count, start=1)  # entries 1..count: one new, one gone
                c0, w0 = time.process_time(), time.perf_counter()
                [report] = poll_all(factory, [feed], max_bytes=50_000_000, client=client)
                out[f"{label}: CPU s"] = round(time.process_time() - c0, 3)
                out[f"{label}: wall s"] = round(time.perf_counter() - w0, 3)
                out[f"{label}: result"] = report.line()  # type: ignore[assignment]
        engine.dispose()
        return out
    finally:
        server.terminate()
        server.wait(timeout=10)


def latency(url: str, folder: Path, interval: float) -> dict[str, float]:
    import uvicorn

    from directory.alerts.sources import parse_feeds
    from directory.alerts.watcher import watch
    from directory.app import create_app
    from directory.config import Settings
    from directory.db import make_engine, make_sessionmaker

    state = folder / "state.json"
    state.write_text(json.dumps({"alerts": []}))
    fport, aport = _port(), _port()
    feed_server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(fport), "--bind", "127.0.0.1"],  # noqa: S603
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    feeds = f"state http://127.0.0.1:{fport}/state.json mapping=alerts-in-ua"
    app = create_app(Settings(database_url=url, secret_key="bench-" + "k" * 40, alert_feeds=feeds))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=aport, log_level="warning", access_log=False)
    )
    threading.Thread(target=server.run, daemon=True).start()
    engine = make_engine(url)
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch,
        args=(make_sessionmaker(engine), parse_feeds(feeds)),
        kwargs={"interval": interval, "max_bytes": 1_000_000, "stop": stop},
        daemon=True,
    )
    samples = []
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        watcher.start()
        page = f"http://127.0.0.1:{aport}/en/?place=UA-12"
        for round_ in range(3):
            time.sleep(
                interval * (0.3 + 0.3 * round_)
            )  # change the feed at various points of the cycle
            since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z"
            )
            on = {
                "alerts": [
                    {
                        "location_oblast": "Дніпропетровська область",
                        "location_type": "oblast",
                        "started_at": since,
                        "finished_at": None,
                        "alert_type": "air_raid",
                    }
                ]
            }
            state.write_text(json.dumps(on, ensure_ascii=False))
            t0 = time.monotonic()
            while (
                'class="notice danger"'
                not in httpx.get(page, headers={"Cache-Control": "no-cache"}).text
            ):
                if time.monotonic() - t0 > interval * 3 + 10:
                    raise RuntimeError("the alert never reached the page")
                time.sleep(0.05)
            samples.append(time.monotonic() - t0)
            state.write_text(json.dumps({"alerts": []}))
            while (
                'class="notice danger"'
                in httpx.get(page, headers={"Cache-Control": "no-cache"}).text
            ):
                time.sleep(0.05)
        return {
            "poll interval s": interval,
            "feed change -> page, s (3 rounds)": [round(s, 2) for s in samples],  # type: ignore[dict-item]
            "budget s (interval + 1)": interval + 1,
        }
    finally:
        stop.set()
        watcher.join(timeout=10)
        server.should_exit = True
        feed_server.terminate()
        feed_server.wait(timeout=10)
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--database-url", default="")
    ap.add_argument("--messages", type=int, default=500)
    ap.add_argument("--interval", type=float, default=5.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        prepare(url)
        result = {
            "database": url.split("://")[0],
            "messages": args.messages,
            **cpu_polls(url, folder, args.messages),
            **latency(url, folder, args.interval),
        }
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
