"""The backtest report as one self-contained HTML page: inline CSS and SVG, no scripts, no
network at view time. Made from `report.report_data`, so it shows what the JSON holds."""

from __future__ import annotations

from html import escape
from typing import Any

MOVED_SHOWN = 500
"""Rows of the moved-leads table; the JSON file lists every one."""

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2430;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.muted{color:#5b6473}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0}
.card{border:1px solid #d8dde6;border-radius:8px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #e6e9ef;padding:4px 8px;text-align:left;font-size:13px}
th{background:#f4f6f9}.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}
svg text{font:11px system-ui,sans-serif;fill:#1d2430}
"""
BEFORE, AFTER, EXPECTED = "#8aa4c8", "#e0803a", "#1d2430"


def render(data: dict[str, Any]) -> str:
    base, cand = data["baseline"], data["candidate_run"]
    cards = [
        ("leads", base["leads"], base["leads"]),
        ("would move", "", len(data["moved"])),
        ("unassigned", base["unassigned"], cand["unassigned"]),
        ("via fallback", base["fell_back"], cand["fell_back"]),
        ("cap skips", sum(base["cap_hits"].values()), sum(cand["cap_hits"].values())),
    ]
    if base.get("projected_sla_breaches") and cand.get("projected_sla_breaches"):
        before, after = (_breaches(run["projected_sla_breaches"]) for run in (base, cand))
        cards.append(("projected SLA breaches", before, after))
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<title>leadrouter backtest</title><style>", _STYLE, "</style></head><body>",
        "<h1>Backtest: candidate config against the configs in force</h1>",
        f"<div class=muted>leads {_e(data['window']['first_lead'])} to "
        f"{_e(data['window']['last_lead'])}; in force: versions {_e(data['baseline_versions'])};"
        f" start state: {_e(data['start_state'])}</div>",
        "<div class=cards>",
        *(f"<div class=card>{_e(name)}<b>{_e(b)}{' &rarr; ' if b != '' else ''}{_e(a)}</b></div>"
          for name, b, a in cards),
        "</div>",
        "<div class=legend><span style='background:" + BEFORE + "'></span>in force"
        "<span style='background:" + AFTER + "'></span>candidate"
        "<span style='background:" + EXPECTED + ";height:2px'></span>expected share</div>",
    ]  # fmt: skip
    for pool in sorted({r["pool"] for r in base["reps"] + cand["reps"]}):
        parts.append(_pool_chart(pool, base, cand))
    parts += _moved_table(data["moved"])
    parts += [
        "<h2>Limits</h2><ul>",
        *(f"<li>{_e(limit)}</li>" for limit in data["limits"]),
        "</ul></body></html>",
    ]
    return "".join(parts)


def _breaches(projected: dict[str, float]) -> str:
    return f"{sum(v for k, v in projected.items() if not k.startswith('no_')):.0f}"


def _e(value: object) -> str:
    return escape(str(value))


def _pool_chart(pool: str, base: dict[str, Any], cand: dict[str, Any]) -> str:
    """Grouped bars of each member's share, in force and candidate, with its expected share."""
    rows: dict[str, dict[str, float]] = {}
    for name, run in (("before", base), ("after", cand)):
        for r in run["reps"]:
            if r["pool"] == pool:
                row = rows.setdefault(r["rep"], {"before": 0.0, "after": 0.0, "expected": 0.0})
                row[name] = r["actual_share"]
                row["expected"] = r["expected_share"] if name == "after" else row["expected"]
    top = max([0.05, *(v for row in rows.values() for v in row.values())])
    width, height, left, bar = 1000, 180, 40, 12
    step = (width - left) / max(1, len(rows))
    marks = []
    for i, (rep, row) in enumerate(sorted(rows.items())):
        x = left + i * step + step / 2 - bar
        for j, (key, colour) in enumerate((("before", BEFORE), ("after", AFTER))):
            h = row[key] / top * (height - 40)
            marks.append(f"<rect x='{x + j * bar:.1f}' y='{height - 20 - h:.1f}' width='{bar - 1}'"
                         f" height='{h:.1f}' fill='{colour}'><title>{_e(rep)} {key}: "
                         f"{row[key] * 100:.1f}%</title></rect>")  # fmt: skip
        y = height - 20 - row["expected"] / top * (height - 40)
        marks.append(f"<line x1='{x - 3:.1f}' x2='{x + 2 * bar + 2:.1f}' y1='{y:.1f}' y2='{y:.1f}'"
                     f" stroke='{EXPECTED}' stroke-width='2'/>")  # fmt: skip
        marks.append(
            f"<text x='{x + bar:.1f}' y='{height - 6}' text-anchor='middle'>{_e(rep)}</text>"
        )
    dev_b = base["largest_deviation"].get(pool)
    dev_a = cand["largest_deviation"].get(pool)
    title = (
        f"<h2>Pool {_e(pool)}: {base['pools'].get(pool, 0)} &rarr; {cand['pools'].get(pool, 0)}"
        f" leads; largest share deviation {_pct(dev_b)} &rarr; {_pct(dev_a)}</h2>"
    )
    axis = (
        f"<line x1='{left}' x2='{width}' y1='{height - 20}' y2='{height - 20}' stroke='#9aa3b2'/>"
        f"<text x='0' y='24'>{top * 100:.0f}%</text><text x='0' y='{height - 20}'>0%</text>"
    )
    return (f"{title}<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}'"
            f" width='100%' role='img'>{axis}{''.join(marks)}</svg>")  # fmt: skip


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _moved_table(moved: list[dict[str, Any]]) -> list[str]:
    head = f"<h2>Leads that would move ({len(moved)})</h2>"
    if not moved:
        return [head, "<p>None: the candidate places every lead as the configs in force did.</p>"]
    rows = [
        f"<tr><td>{_e(m['lead_id'])}</td><td>{_e(_where(m['before']))}</td>"
        f"<td>{_e(_where(m['after']))}</td><td>{_e(m['step'])}</td><td>{_e(m['detail'])}</td></tr>"
        for m in moved[:MOVED_SHOWN]
    ]
    more = len(moved) - MOVED_SHOWN
    tail = [f"<p class=muted>{more} more in the JSON report.</p>"] if more > 0 else []
    return [
        head,
        "<table><tr><th>lead</th><th>in force</th><th>candidate</th><th>parted at</th>"
        "<th>how</th></tr>",
        *rows,
        "</table>",
        *tail,
    ]


def _where(placed: dict[str, str | None]) -> str:
    if placed["outcome"] == "assigned":
        return f"{placed['rep']} in {placed['pool']}"
    return f"{placed['outcome']} ({placed['pool']})"
