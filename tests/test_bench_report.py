"""The benchmark report judges issue 16's budgets as ratios within one run (bench/report.py)."""

from __future__ import annotations

from typing import Any

from bench import report


def _row(backend: str, n: int, kind: str, c: int, p95: float, rps: float = 100.0) -> dict[str, Any]:
    return {
        "backend": backend,
        "n": n,
        "type": kind,
        "concurrency": c,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "p99_ms": p95 * 2,
        "rps": rps,
        "errors": 0,
    }


def _results(pg_factor: float, static_rps: float) -> dict[str, Any]:
    runs = []
    for backend, factor in (("sqlite", 1.0), ("postgresql", pg_factor)):
        for n in (1000, 100000):
            runs.append(_row(backend, n, "static", 1, 0.5, static_rps))
            runs.append(_row(backend, n, "static", 32, 1.0, static_rps))
            for kind in report.SEARCH_BUDGET_TYPES:
                runs.append(_row(backend, n, kind, 1, 10.0 * factor))
                runs.append(_row(backend, n, kind, 32, 100.0 * factor, 1000.0 / factor))
            runs.append(_row(backend, n, "service", 1, 4.0 * factor))
    return {
        "meta": {"options": {"concurrency": [1, 32], "workers": 2}},
        "runs": runs,
        "types": {},
    }


def _issue16(results: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (b["backend"], b["budget"].split(" ")[0]): b
        for b in report.budgets(results)
        if b["issue"] == 16
    }


def test_ratios_within_the_run_pass_and_fail_by_their_limits() -> None:
    ok = _issue16(_results(pg_factor=1.2, static_rps=12000.0))
    # search p95 10 ms over a 0.5 ms static floor = 20×, under 25×; PostgreSQL 12 ms = 24×
    search = ok[("sqlite", "search,")]
    assert search["value"] == 20.0 and search["pass"] is True
    assert ok[("postgresql", "search,")]["value"] == 24.0
    assert ok[("sqlite", "service")]["value"] == 8.0 and ok[("sqlite", "service")]["pass"]
    # 1000/s against 12000/s static = 1/12, at least 1/15
    share = next(b for k, b in ok.items() if k[0] == "sqlite" and "pages/s" in b["budget"])
    assert share["value"] == round(1000 / 12000, 4) and share["pass"] is True
    pg = ok[("postgresql", "PostgreSQL")]
    assert pg["value"] == 1.2 and pg["pass"] is True and pg["detail"] == "over: none"

    bad = _issue16(_results(pg_factor=1.5, static_rps=30000.0))
    pg = bad[("postgresql", "PostgreSQL")]
    assert pg["value"] == 1.5 and pg["pass"] is False and "search_latin 1.50×" in pg["detail"]
    assert bad[("postgresql", "search,")]["value"] == 30.0
    assert bad[("postgresql", "search,")]["pass"] is False
    share = next(b for k, b in bad.items() if k[0] == "sqlite" and "pages/s" in b["budget"])
    assert share["pass"] is False  # 1000/s against 30000/s = 1/30


def test_the_summary_shows_issue_16_budgets_first() -> None:
    results = _results(pg_factor=1.5, static_rps=30000.0)
    results["meta"].update(
        started="2026-12-03T19:00",
        commit="abc",
        machine={"cpus": 2, "cpu_model": "x", "memory_gib": 24, "python": "3.11"},
        load_average_at_start=0.1,
    )
    results["meta"]["options"].update(
        sizes=[1000, 100000],
        backends=["sqlite", "postgresql"],
        duration_s=2,
        load_generator="wrk",
        gzip=True,
    )
    results["meta"]["versions"] = {}
    text = report.markdown(results)
    assert text.index("Budgets of issue 16") < text.index("Budgets of issue 7")
    assert "PostgreSQL p95 ≤ 1.25× SQLite's" in text
