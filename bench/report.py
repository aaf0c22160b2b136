"""Budgets, Markdown summary and the p95-vs-N plot, all computed from the results JSON
(`python -m bench.run --from-json bench/results/results-<date>.json` re-renders them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BUDGET_SEARCH_MS = 30.0
BUDGET_SERVICE_MS = 10.0
BUDGET_GROWTH = 3.0
BUDGET_RPS = 250.0
BUDGET_DATASETTE_RATIO = 0.2
BUDGET_IMPORT_S = 60.0
BUDGET_EXPORT_S = 30.0
# Issue 16: every budget a ratio measured side by side in the same run (machines differ and
# are shared, so an absolute figure says little about the code).
BUDGET_X_STATIC_SEARCH = 25.0  # search, filter, near-me p95 ≤ 25× the static file's p95
BUDGET_X_STATIC_SERVICE = 10.0  # service page p95 ≤ 10× the static file's
BUDGET_PG_OVER_SQLITE = 1.25  # PostgreSQL p95 ≤ 1.25× SQLite's, same request type
BUDGET_RPS_SHARE = 1 / 15  # search pages/s at the top concurrency ≥ 1/15 of the static file's
SEARCH_BUDGET_TYPES = (
    "search_latin",
    "search_cyrillic",
    "search_translit",
    "search_common",
    "search_prefix",
    "search_nomatch",
    "filter",
    "near",
)
TEXT_SEARCH_TYPES = SEARCH_BUDGET_TYPES[:6]
MARKERS = "osD^v<>pPX*h"
ORDER = ["static", "home", *SEARCH_BUDGET_TYPES, "fragment", "api_search", "service"]


def _p95(row: dict[str, Any]) -> float:
    """p95 in ms; a measurement in which no request completed counts as infinitely slow."""
    value = row.get("p95_ms")
    return float("inf") if value is None else float(value)


def _label(results: dict[str, Any], name: str) -> str:
    for per_server in results.get("types", {}).values():
        if name in per_server:
            return str(per_server[name]["label"])
    return name


def _run(results: dict[str, Any], backend: str, n: int, name: str, c: int) -> dict[str, Any] | None:
    runs = (
        results["runs"] if backend != "datasette" else results.get("datasette", {}).get("runs", [])
    )
    for row in runs:
        if (
            row["backend"] == backend
            and row["n"] == n
            and row["type"] == name
            and row["concurrency"] == c
        ):
            return dict(row)
    return None


def _sizes(results: dict[str, Any], backend: str) -> list[int]:
    return sorted({r["n"] for r in results["runs"] if r["backend"] == backend})


def _backends(results: dict[str, Any]) -> list[str]:
    seen: list[str] = []
    for r in results["runs"]:
        if r["backend"] not in seen:
            seen.append(r["backend"])
    return seen


def _n(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def budgets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget of issue 7, per backend: measured value, limit, pass/fail and the details."""
    out: list[dict[str, Any]] = []
    concurrency = results["meta"]["options"]["concurrency"]
    c1 = min(concurrency)

    def add(
        name: str,
        backend: str,
        value: float | None,
        limit: float,
        ok: bool | None,
        detail: str,
        unit: str,
        issue: int = 7,
    ) -> None:
        out.append(
            {
                "issue": issue,
                "budget": name,
                "backend": backend,
                "value": value,
                "limit": limit,
                "unit": unit,
                "pass": ok,
                "detail": detail,
            }
        )

    for backend in _backends(results):
        sizes = _sizes(results, backend)
        if not sizes:
            continue
        big, small = max(sizes), min(sizes)
        at = f"N={_n(big)}, c={c1}"
        rows = [r for t in SEARCH_BUDGET_TYPES if (r := _run(results, backend, big, t, c1))]
        if rows:
            worst = max(rows, key=_p95)
            add(
                f"search, filter, near-me p95 ≤ {BUDGET_SEARCH_MS:g} ms ({at})",
                backend,
                _p95(worst),
                BUDGET_SEARCH_MS,
                _p95(worst) <= BUDGET_SEARCH_MS,
                "worst: "
                + _label(results, worst["type"])
                + "; "
                + ", ".join(f"{r['type']} {_p95(r):.1f}" for r in rows),
                "ms",
            )
        row = _run(results, backend, big, "service", c1)
        if row:
            add(
                f"service page p95 ≤ {BUDGET_SERVICE_MS:g} ms ({at})",
                backend,
                _p95(row),
                BUDGET_SERVICE_MS,
                _p95(row) <= BUDGET_SERVICE_MS,
                "",
                "ms",
            )
        if big > small:
            ratios = []
            for t in ORDER:
                if t == "static":
                    continue
                a, b = _run(results, backend, small, t, c1), _run(results, backend, big, t, c1)
                if a and b and a["p95_ms"]:
                    ratios.append((_p95(b) / _p95(a), t, _p95(a), _p95(b)))
            if ratios:
                worst_r = max(ratios)
                add(
                    f"p95 growth {_n(small)} → {_n(big)} ≤ {BUDGET_GROWTH:g}× (c={c1})",
                    backend,
                    round(worst_r[0], 2),
                    BUDGET_GROWTH,
                    worst_r[0] <= BUDGET_GROWTH,
                    f"worst: {_label(results, worst_r[1])} {worst_r[2]:.1f} → {worst_r[3]:.1f} ms;"
                    " over: "
                    + (
                        ", ".join(f"{t} {r:.1f}×" for r, t, _, _ in ratios if r > BUDGET_GROWTH)
                        or "none"
                    ),
                    "×",
                    16,  # the same budget in issues 7 and 16
                )
        c_max = max(concurrency)
        rows = [r for t in TEXT_SEARCH_TYPES if (r := _run(results, backend, big, t, c_max))]
        if rows:
            slowest = min(rows, key=lambda r: r["rps"])
            errors = sum(r["errors"] for r in rows)
            workers = results["meta"]["options"]["workers"]
            add(
                f"search throughput ≥ {BUDGET_RPS:g}/s, no errors (N={_n(big)}, c={c_max}, "
                f"{workers} workers)",
                backend,
                slowest["rps"],
                BUDGET_RPS,
                slowest["rps"] >= BUDGET_RPS and errors == 0,
                f"slowest: {_label(results, slowest['type'])}; errors {errors}; "
                + ", ".join(f"{r['type']} {r['rps']:.0f}" for r in rows),
                "req/s",
            )
    ds = results.get("datasette") or {}
    if ds.get("runs"):
        n = ds["n"]
        ratios = []
        # "on every query both answer with results": the no-match queries answer with none
        for t in (t for t in TEXT_SEARCH_TYPES if t != "search_nomatch"):
            ours, theirs = _run(results, "sqlite", n, t, c1), _run(results, "datasette", n, t, c1)
            if ours and theirs and theirs["p95_ms"]:
                ratios.append((_p95(ours) / _p95(theirs), t, _p95(ours), _p95(theirs)))
        if ratios:
            worst_d = max(ratios)
            add(
                f"search p95 ≤ 1/5 of Datasette's (SQLite, N={_n(n)}, c={c1})",
                "sqlite",
                round(worst_d[0], 3),
                BUDGET_DATASETTE_RATIO,
                worst_d[0] <= BUDGET_DATASETTE_RATIO,
                "; ".join(f"{t}: {a:.1f} vs {b:.1f} ms" for _, t, a, b in ratios),
                "×",
                16,  # the same budget in issues 7 and 16
            )
    exchange = results.get("exchange", [])
    big_n = max((r["n"] for r in exchange), default=0)
    for row in exchange:
        if row.get("seconds") is None or row["n"] != big_n:
            continue
        if row["operation"] not in ("export", "import"):
            continue  # the dump tool's rows are the yardstick of the ratios below
        limit = BUDGET_EXPORT_S if row["operation"] == "export" else BUDGET_IMPORT_S
        add(
            f"{row['operation']} of {_n(row['n'])} services ≤ {limit:g} s",
            row["backend"],
            row["seconds"],
            limit,
            row["seconds"] <= limit and row.get("ok", False),
            row.get("detail", ""),
            "s",
        )
    for ratio in exchange_ratios(exchange):
        if ratio["n"] != big_n:
            continue
        add(
            f"{ratio['ratio']} of {_n(ratio['n'])} services ≤ {ratio['limit']:g}×",
            ratio["backend"],
            ratio["value"],
            ratio["limit"],
            ratio["pass"],
            ratio["detail"],
            "×",
            16,
        )
    _ratio_budgets(results, add)
    return out


def _ratio_budgets(results: dict[str, Any], add: Any) -> None:
    """Issue 16's search budgets, each a ratio within this run: × the static file's p95 (the
    floor of the same server), PostgreSQL over SQLite, share of the static file's req/s."""
    concurrency = results["meta"]["options"]["concurrency"]
    c1, c_max = min(concurrency), max(concurrency)
    served = [b for b in _backends(results) if b != "datasette"]
    for backend in served:
        sizes = _sizes(results, backend)
        if not sizes:
            continue
        big = max(sizes)
        floor = _run(results, backend, big, "static", c1)
        if floor and floor.get("p95_ms"):
            base = _p95(floor)
            for types, limit, what in (
                (SEARCH_BUDGET_TYPES, BUDGET_X_STATIC_SEARCH, "search, filter, near-me"),
                (("service",), BUDGET_X_STATIC_SERVICE, "service page"),
            ):
                rows = [r for t in types if (r := _run(results, backend, big, t, c1))]
                if not rows:
                    continue
                worst = max(rows, key=_p95)
                value = _p95(worst) / base
                add(
                    f"{what} p95 ≤ {limit:g}× the static file's (N={_n(big)}, c={c1})",
                    backend,
                    round(value, 1),
                    limit,
                    value <= limit,
                    f"static {base:.2f} ms; "
                    + ", ".join(f"{r['type']} {_p95(r) / base:.0f}×" for r in rows),
                    "×",
                    16,
                )
        static_max = _run(results, backend, big, "static", c_max)
        rows = [r for t in TEXT_SEARCH_TYPES if (r := _run(results, backend, big, t, c_max))]
        if static_max and static_max.get("rps") and rows:
            slowest = min(rows, key=lambda r: r["rps"])
            share = slowest["rps"] / static_max["rps"]
            errors = sum(r["errors"] for r in rows)
            add(
                f"search pages/s ≥ 1/{1 / BUDGET_RPS_SHARE:.0f} of the static file's, no errors "
                f"(N={_n(big)}, c={c_max})",
                backend,
                round(share, 4),
                round(BUDGET_RPS_SHARE, 4),
                share >= BUDGET_RPS_SHARE and errors == 0,
                f"static {static_max['rps']:.0f}/s; slowest {slowest['type']} "
                f"{slowest['rps']:.0f}/s = 1/{static_max['rps'] / max(slowest['rps'], 1e-9):.0f}; "
                f"errors {errors}",
                "",
                16,
            )
    if "sqlite" in served and "postgresql" in served:
        common = sorted(set(_sizes(results, "sqlite")) & set(_sizes(results, "postgresql")))
        if common:
            n = max(common)
            ratios = []
            for t in ORDER:
                if t == "static":
                    continue
                lite, pg = _run(results, "sqlite", n, t, c1), _run(results, "postgresql", n, t, c1)
                if lite and pg and lite.get("p95_ms"):
                    ratios.append((_p95(pg) / _p95(lite), t))
            if ratios:
                worst_pg = max(ratios)
                add(
                    f"PostgreSQL p95 ≤ {BUDGET_PG_OVER_SQLITE:g}× SQLite's, every request type "
                    f"(N={_n(n)}, c={c1})",
                    "postgresql",
                    round(worst_pg[0], 2),
                    BUDGET_PG_OVER_SQLITE,
                    worst_pg[0] <= BUDGET_PG_OVER_SQLITE,
                    "over: "
                    + (
                        ", ".join(f"{t} {r:.2f}×" for r, t in ratios if r > BUDGET_PG_OVER_SQLITE)
                        or "none"
                    ),
                    "×",
                    16,
                )


def exchange_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """export/dump and import/export per backend and N (`bench.exchange.ratios`; results
    without dump rows, from before 2026-12-03, have none)."""
    from bench.exchange import ratios

    return ratios(rows)


def all_passed(results: dict[str, Any]) -> bool | None:
    verdicts = [b["pass"] for b in budgets(results)]
    return all(verdicts) if verdicts else None


def fmt(x: float | None) -> str:
    if x is None:
        return "—"
    if x == float("inf"):
        return "none completed"
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    opts = meta["options"]
    m = meta["machine"]
    c1, cmax = min(opts["concurrency"]), max(opts["concurrency"])
    lines = [
        "# Benchmark results",
        "",
        f"Run {meta['started']} → {meta.get('finished', '?')} UTC, commit `{meta['commit']}`, "
        f"{m['cpus']} cores ({m['cpu_model']}), {m['memory_gib']} GiB RAM, Python {m['python']}. "
        f"Load average at start {meta['load_average_at_start']}, at end "
        f"{meta.get('load_average_at_end', '?')}.",
        "",
        f"Command: `./dev bench --sizes {','.join(map(str, opts['sizes']))} --backends "
        f"{','.join(opts['backends'])} --duration {opts['duration_s']:g}` — "
        f"`aid-directory serve --workers {opts['workers']}` on 127.0.0.1, load by "
        f"{opts['load_generator']}, {opts['duration_s']:g} s per figure at concurrency "
        f"{', '.join(map(str, opts['concurrency']))}"
        + (", `Accept-Encoding: gzip` like a browser" if opts.get("gzip") else "")
        + ".",
    ]
    if meta.get("note"):
        lines += ["", f"Note: {meta['note']}"]
    verdicts = budgets(results)
    for issue, title in (
        (16, "Budgets of issue 16 (ratios within this run)"),
        (7, "Budgets of issue 7 (absolute times; superseded by the ratios above)"),
    ):
        lines += [
            "",
            f"## {title}",
            "",
            "| Budget | Backend | Measured | Limit | Verdict | Details |",
            "| --- | --- | ---: | ---: | --- | --- |",
        ]
        for b in verdicts:
            if b.get("issue", 7) != issue:
                continue
            verdict = "**pass**" if b["pass"] else "**FAIL**"
            lines.append(
                f"| {b['budget']} | {b['backend']} | {fmt(b['value'])} {b['unit']} | "
                f"{b['limit']:g} {b['unit']} | {verdict} | {b['detail']} |"
            )
    for backend in _backends(results):
        if backend == "datasette":
            continue
        sizes = _sizes(results, backend)
        lines += [
            "",
            f"## {backend}: latency at c={c1} (p50 / p95 / p99 ms) by N",
            "",
            "| Request | " + " | ".join(f"N={_n(n)}" for n in sizes) + " |",
            "| --- |" + " ---: |" * len(sizes),
        ]
        for t in ORDER:
            cells = []
            for n in sizes:
                r = _run(results, backend, n, t, c1)
                cells.append(
                    f"{fmt(r['p50_ms'])} / **{fmt(r['p95_ms'])}** / {fmt(r['p99_ms'])}"
                    if r
                    else "—"
                )
            if any(c != "—" for c in cells):
                lines.append(f"| {_label(results, t)} | " + " | ".join(cells) + " |")
        big = max(sizes)
        concs = opts["concurrency"]
        lines += [
            "",
            f"## {backend}: N={_n(big)} by concurrency (p95 ms · req/s · errors)",
            "",
            "| Request | " + " | ".join(f"c={c}" for c in concs) + " |",
            "| --- |" + " ---: |" * len(concs),
        ]
        for t in ORDER:
            cells = []
            for c in concs:
                r = _run(results, backend, big, t, c)
                cells.append(f"{fmt(r['p95_ms'])} · {r['rps']:.0f}/s · {r['errors']}" if r else "—")
            if any(c != "—" for c in cells):
                lines.append(f"| {_label(results, t)} | " + " | ".join(cells) + " |")
    ds = results.get("datasette") or {}
    if ds.get("runs"):
        n = ds["n"]
        lines += [
            "",
            f"## Side by side with Datasette (SQLite, N={_n(n)})",
            "",
            f"Datasette {meta['versions'].get('datasette', '')} serving a copy of the same "
            "database with an FTS5 table over service names and descriptions "
            f"(`datasette {ds.get('command', '')}`), HTML table page with `?_search=`, "
            "same load, same run, right after ours.",
            "",
            f"| Request | ours p95 c={c1} | Datasette p95 c={c1} | ratio | ours c={cmax} | "
            f"Datasette c={cmax} |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for t in ["static", *TEXT_SEARCH_TYPES]:
            a, b = _run(results, "sqlite", n, t, c1), _run(results, "datasette", n, t, c1)
            a32, b32 = _run(results, "sqlite", n, t, cmax), _run(results, "datasette", n, t, cmax)
            if not (a or b):
                continue
            ratio = f"{_p95(a) / _p95(b):.3f}" if a and b and b["p95_ms"] else "—"
            lines.append(
                f"| {_label(results, t)} | {fmt(a and a['p95_ms'])} ms | "
                f"{fmt(b and b['p95_ms'])} ms | {ratio} | "
                + (f"{a32['rps']:.0f}/s, {a32['errors']} err" if a32 else "—")
                + " | "
                + (f"{b32['rps']:.0f}/s, {b32['errors']} err" if b32 else "—")
                + " |"
            )
    if results.get("servers"):
        lines += [
            "",
            "## Server memory (whole process tree, peak during the load)",
            "",
            "| Backend | N | workers | processes | RSS sum MiB | PSS sum MiB "
            "| largest process MiB |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for s in results["servers"]:
            lines.append(
                f"| {s['backend']} | {_n(s['n'])} | {s['workers']} | {s['processes']} | "
                f"{s['peak_rss_total_mib']} | {s['peak_pss_total_mib']} | "
                f"{s['peak_rss_largest_process_mib']} |"
            )
        if ds.get("memory"):
            mem = ds["memory"]
            lines.append(
                f"| datasette | {_n(ds['n'])} | 1 | {mem['processes']} | "
                f"{mem['peak_rss_total_mib']} | {mem['peak_pss_total_mib']} | "
                f"{mem['peak_rss_largest_process_mib']} |"
            )
    if results.get("exchange"):
        lines += [
            "",
            "## Export and import (HSDS JSON)",
            "",
            "| Backend | N | Operation | Seconds | CPU s | Peak RSS MiB | Details |",
            "| --- | ---: | --- | ---: | ---: | ---: | --- |",
        ]
        for row in results["exchange"]:
            lines.append(
                f"| {row['backend']} | {_n(row['n'])} | {row['operation']} | "
                f"{fmt(row.get('seconds'))} | {fmt(row.get('cpu_s'))} | "
                f"{row.get('peak_rss_mib', '—')} | {row.get('detail', '')} |"
            )
        ratio_rows = exchange_ratios(results["exchange"])
        if ratio_rows:
            lines += [
                "",
                "Against the database's own dump of the same rows (issue #16: export ≤ 3× the "
                "dump, import ≤ 2× the export):",
                "",
                "| Backend | N | Ratio | Wall × | CPU × | Budget | Pass | Details |",
                "| --- | ---: | --- | ---: | ---: | ---: | --- | --- |",
            ]
            for r in ratio_rows:
                lines.append(
                    f"| {r['backend']} | {_n(r['n'])} | {r['ratio']} | {fmt(r['value'])} | "
                    f"{fmt(r['cpu_value'])} | ≤ {r['limit']:g} | "
                    f"{'yes' if r['pass'] else 'NO'} | {r['detail']} |"
                )
    if results.get("datasets"):
        lines += [
            "",
            "## Databases",
            "",
            "| Backend | N | Size MiB | Built in this run | migrate s | generate s | reindex s |",
            "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
        ]
        for d in results["datasets"]:
            lines.append(
                f"| {d['backend']} | {_n(d['n'])} | {d['size_mib']} | "
                f"{'yes' if d['built_now'] else 'no (cached)'} | "
                f"{d.get('migrate_s', '—')} | {d.get('generate_s', '—')} | "
                f"{d.get('reindex_s', '—')} |"
            )
    notes = [
        f"{server}: {name} — {info['note']}"
        for server, per in results.get("types", {}).items()
        for name, info in per.items()
        if info.get("note") and name != "static"
    ]
    if notes or results.get("skipped"):
        lines += ["", "## Not measured or partly measured", ""]
        lines += [f"- {x}" for x in notes + results.get("skipped", [])]
    lines += ["", "![p95 latency against N](p95.png)", ""]
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    """p95 (top row, the budgets' figure) and p50 (bottom row, steadier on a shared machine)
    latency against N, per request type, one column per backend; log axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = [b for b in _backends(results) if b != "datasette"]
    if not backends:
        return
    c1 = min(results["meta"]["options"]["concurrency"])
    fig, axes = plt.subplots(
        2, len(backends), figsize=(6.2 * len(backends), 9.0), sharey=True, squeeze=False
    )
    cmap = plt.get_cmap("tab10")
    ds = results.get("datasette") or {}
    for row, metric in enumerate(("p95_ms", "p50_ms")):
        for ax, backend in zip(axes[row], backends, strict=True):
            sizes = _sizes(results, backend)
            for i, t in enumerate(ORDER):
                points = [
                    (n, r[metric])
                    for n in sizes
                    if (r := _run(results, backend, n, t, c1)) and r[metric] is not None
                ]
                if not points:
                    continue
                xs, ys = zip(*points, strict=True)
                style = (
                    {"color": "black", "linestyle": "--", "linewidth": 2}
                    if t == "static"
                    else {
                        "color": cmap(i % 10),
                        "marker": MARKERS[i % len(MARKERS)],
                        "markersize": 5,
                        "linestyle": "-" if i < 10 else ":",
                    }
                )
                ax.plot(xs, ys, label=_label(results, t), **style)
            if backend == "sqlite" and ds.get("runs"):
                pts = [
                    r[metric]
                    for r in ds["runs"]
                    if r["concurrency"] == c1 and r["type"] != "static" and r[metric] is not None
                ]
                if pts:
                    ax.scatter(
                        [ds["n"]] * len(pts),
                        pts,
                        marker="x",
                        color="red",
                        s=40,
                        zorder=5,
                        label="Datasette search (same N)",
                    )
            ax.axhline(BUDGET_SEARCH_MS, color="grey", linewidth=0.8, linestyle=":")
            ax.axhline(BUDGET_SERVICE_MS, color="grey", linewidth=0.8, linestyle=":")
            ax.text(
                sizes[0],
                BUDGET_SEARCH_MS * 1.05,
                "search budget 30 ms (p95)",
                fontsize=7,
                color="grey",
            )
            ax.text(
                sizes[0],
                BUDGET_SERVICE_MS * 1.05,
                "service page budget 10 ms (p95)",
                fontsize=7,
                color="grey",
            )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(sizes, [_n(n) for n in sizes])
            ax.set_xlabel("services (N)")
            ax.set_title(f"{backend}: {metric[:3]} latency at concurrency {c1}")
            ax.grid(True, which="both", linewidth=0.3)
        axes[row][0].set_ylabel(f"{metric[:3]} latency (ms, log)")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.suptitle(
        f"aid-directory benchmark {results['meta']['started'][:10]} "
        f"({results['meta']['machine']['cpus']} shared cores; dashed = static file floor)",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write(results: dict[str, Any], out: Path, *, json_name: str | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results["budgets"] = budgets(results)
    if json_name:
        (out / json_name).write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    (out / "summary.md").write_text(markdown(results))
    plot(results, out / "p95.png")
    print(f"\nresults: {out}/{json_name or ''} summary.md p95.png")
    for b in results["budgets"]:
        print(
            f"  {'pass' if b['pass'] else 'FAIL'}  {b['budget']} [{b['backend']}]: "
            f"{fmt(b['value'])} {b['unit']}"
        )


def readme_section(results: dict[str, Any], *, json_name: str) -> str:
    """docs/performance.md's "## Latest benchmark run" section: how to run, verdicts, the table,
    the plot."""
    meta, opts = results["meta"], results["meta"]["options"]
    m = meta["machine"]
    c1, cmax = min(opts["concurrency"]), max(opts["concurrency"])
    backends = [b for b in _backends(results) if b != "datasette"]
    lines = [
        "## Latest benchmark run",
        "",
        "```",
        "./dev bench                      # N = 1k, 10k, 100k on SQLite and PostgreSQL (~25 min)",
        "./dev bench --sizes 1000 --backends sqlite --duration 2   # a quick look",
        "```",
        "",
        "`./dev bench` builds (and caches) a database per backend and size with "
        "`aid-directory generate --services N --seed 1`, starts the real server "
        f"(`aid-directory serve --workers {opts['workers']}`, uvicorn, 127.0.0.1 only), drives it "
        "with `wrk` at concurrency "
        + ", ".join(map(str, opts["concurrency"]))
        + " and serves the same data with Datasette for comparison; then it writes "
        "`bench/results/results-<date>.json`, `bench/results/summary.md` and "
        "`bench/results/p95.png`. How it works and every option: `bench/README.md`. "
        "`python -m bench.profile` shows where a slow request spends its time (py-spy).",
        "",
        f"Last run: {meta['started'][:16].replace('T', ' ')} UTC on this project's machine — "
        f"{m['cpus']} cores ({m['cpu_model']}), {m['memory_gib']} GiB RAM; commit "
        f"`{meta['commit']}`; {opts['duration_s']} s per figure"
        + (f". {meta['note']}" if meta.get("note") else "")
        + ". "
        f"Full figures (p50/p95/p99, throughput, errors, memory): `bench/results/summary.md` and "
        f"`bench/results/{json_name}`.",
        "",
        "Issue 16's budgets are ratios within this run (the issue-7 absolute times below them "
        "are kept for comparison with older runs).",
        "",
        "| Budget | Issue | Backend | Measured | Limit | Verdict |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    verdicts = results.get("budgets") or budgets(results)
    for b in sorted(verdicts, key=lambda b: -int(b.get("issue", 7))):  # stable: 16 first
        lines.append(
            f"| {b['budget']} | {b.get('issue', 7)} | {b['backend']} | {fmt(b['value'])} "
            f"{b['unit']} | {b['limit']:g} {b['unit']} | {'pass' if b['pass'] else '**FAIL**'} |"
        )
    sizes = sorted({r["n"] for r in results["runs"] if r["backend"] in backends})
    head = " | ".join(f"{b} N={_n(n)}" for b in backends for n in sizes)
    lines += [
        "",
        f"p95 latency in ms at concurrency {c1} (static file = the floor), and "
        f"requests/s at concurrency {cmax} at N={_n(max(sizes))}:",
        "",
        f"| Request | {head} | " + " | ".join(f"{b} req/s c={cmax}" for b in backends) + " |",
        "| --- |" + " ---: |" * (len(backends) * len(sizes) + len(backends)),
    ]
    for t in ORDER:
        cells = [
            fmt(r["p95_ms"]) if (r := _run(results, b, n, t, c1)) else "—"
            for b in backends
            for n in sizes
        ]
        cells += [
            f"{r['rps']:.0f}" + (f" ({r['errors']} err)" if r["errors"] else "")
            if (r := _run(results, b, max(sizes), t, cmax))
            else "—"
            for b in backends
        ]
        if any(c != "—" for c in cells):
            lines.append(f"| {_label(results, t)} | " + " | ".join(cells) + " |")
    ds = results.get("datasette") or {}
    if ds.get("runs"):
        pairs = [
            (t, a, b)
            for t in TEXT_SEARCH_TYPES
            if (a := _run(results, "sqlite", ds["n"], t, c1))
            and (b := _run(results, "datasette", ds["n"], t, c1))
        ]
        if pairs:
            lines += [
                "",
                f"Datasette {meta['versions'].get('datasette', '')} on a copy of the same "
                f"SQLite data (N={_n(ds['n'])}, FTS5 over names and descriptions), p95 at "
                f"c={c1}: "
                + "; ".join(
                    f"{_label(results, t)} {fmt(a['p95_ms'])} ms (Datasette {fmt(b['p95_ms'])} ms)"
                    for t, a, b in pairs
                )
                + ".",
            ]
    servers = results.get("servers") or []
    if servers:
        lines += [
            "",
            "Server memory at the largest N (all processes, peak PSS): "
            + "; ".join(
                f"{s['backend']} {s['peak_pss_total_mib']:.0f} MiB ({s['processes']} processes)"
                for s in servers
                if s["n"] == max(sizes)
            )
            + ".",
        ]
    lines += ["", "![p95 latency against the number of services](../bench/results/p95.png)", ""]
    return "\n".join(lines)


def update_readme(readme: Path, section: str) -> None:
    """Replace (or append at the end) the generated "## Latest benchmark run" section of
    docs/performance.md: from its heading to its first "###" subsection (hand-written notes are
    kept) or to the next "##" section."""
    text = readme.read_text()
    start = text.find("\n## Latest benchmark run\n")
    if start >= 0:
        ends = [
            i for i in (text.find("\n### ", start + 1), text.find("\n## ", start + 1)) if i >= 0
        ]
        end = min(ends) if ends else -1
        text = text[: start + 1] + section.rstrip("\n") + "\n" + (text[end:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    readme.write_text(text)
