#!/usr/bin/env python3
"""Tables and plots for BENCHMARKS.md from criterion's output of `benches/level.rs`.

Reads <criterion-dir>/<group>/<structure>/<n>/new/estimates.json (mean, in ns),
<criterion-dir>/memory.json (written by the benchmark at start-up) and, when present,
<criterion-dir>/compare.json (written by the `LEVEL_COMPARE=<rounds>` interleaved mode), then

- prints Markdown tables: every benchmark at every size, the time of each structure and
  the ratio of each baseline's time to the level's (> 1: the level is faster);
- writes SVG plots (pure standard library, no matplotlib): cost against n, log-log, one line
  per structure (from compare.json when present, else from criterion); and, from
  compare.json, ratio_by_size.svg: one panel per op, every structure's speed relative to the
  fastest baseline against n (above 1x: faster than every baseline).

Usage:
    python3 scripts/plot_benchmarks.py [--criterion-dir DIR] [--svg-dir docs]

DIR defaults to $CRITERION_HOME, else $CARGO_TARGET_DIR/criterion, else target/criterion.
"""

import argparse
import json
import math
import os
import sys

STRUCTURES = ["level_1k", "level_2k", "sorted_vec", "btreemap", "indexset"]
LEVELS = ["level_1k", "level_2k"]
BASELINES = ["sorted_vec", "btreemap", "indexset"]
# Criterion's sizes; the interleaved comparison's come from compare.json itself.
SIZES = [1024, 32768, 262144]

# group -> (description, per-what divisor: None for per call, "n" per table, "n+a" per
# table of both levels)
GROUPS = [
    ("insert", "insert one table into a level of ~n (random order)", None),
    ("insert_cold", "the same after a full iteration streamed the structure through the caches", None),
    ("remove", "remove one table from a level of n (random order)", None),
    ("set_snapshot_max", "look a live table up and retire it", None),
    ("iter_visible_asc", "full iteration, visible to latest, ascending (per table)", "n"),
    ("iter_visible_desc", "full iteration, visible to latest, descending (per table)", "n"),
    ("iter_compacted_asc", "the same after `ManifestLevel::compact()` (tables packed into nodes at least 15/16 full, in pool order; baselines unchanged), ascending (per table)", "n"),
    ("iter_compacted_desc", "the same after `compact()`, descending (per table)", "n"),
    ("range_8", "range iteration covering 8 tables", None),
    ("range_start", "first table of a range (range start)", None),
    ("find", "find a table", None),
    ("next_table_walk", "next_table walk across the level (per step)", "n"),
    ("overlapping", "tables_overlapping_with_key_range, max 8", None),
    ("least_overlap", "table_with_least_overlap, A = n/8 tables, B = n (per table of A+B)", "n+a"),
    ("least_overlap_compacted", "the same with B packed by `compact()` (A as filled; baselines unchanged) (per table of A+B)", "n+a"),
]

COLORS = {
    "level_1k": "#d62728",
    "level_2k": "#ff7f0e",
    "sorted_vec": "#1f77b4",
    "btreemap": "#2ca02c",
    "indexset": "#9467bd",
}


def criterion_dir(arg):
    if arg:
        return arg
    if os.environ.get("CRITERION_HOME"):
        return os.environ["CRITERION_HOME"]
    if os.environ.get("CARGO_TARGET_DIR"):
        return os.path.join(os.environ["CARGO_TARGET_DIR"], "criterion")
    return "target/criterion"


def load(directory):
    """{(group, structure, n): mean ns}"""
    results = {}
    for group, _, _ in GROUPS:
        for structure in STRUCTURES:
            for n in SIZES:
                path = os.path.join(directory, group, structure, str(n), "new", "estimates.json")
                try:
                    with open(path) as f:
                        estimates = json.load(f)
                except OSError:
                    continue
                results[(group, structure, n)] = estimates["mean"]["point_estimate"]
    return results


def compared_sizes(compared):
    return sorted({n for (_, _, n) in compared})


def best(row, structures):
    values = [row[s] for s in structures if row.get(s) is not None and row[s] == row[s] and row[s] > 0]
    return min(values) if values else None


def ratio_markdown(compared, sizes):
    """Best level configuration against the best baseline, one row per op, one column per n."""
    lines = ["| op | " + " | ".join(f"{n:,}" for n in sizes) + " |"]
    lines.append("|" + "|".join(["---"] * (len(sizes) + 1)) + "|")
    for group, _, _ in GROUPS:
        cells = []
        for n in sizes:
            row = {s: compared.get((group, s, n)) for s in STRUCTURES}
            level, baseline = best(row, LEVELS), best(row, BASELINES)
            cells.append(fmt_ratio(baseline, level))
        if any(c != "–" for c in cells):
            lines.append(f"| `{group}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def svg_ratio_grid(compared, sizes, path, columns=3):
    """One panel per op: every structure's speed relative to the fastest baseline at each n
    (fastest baseline time ÷ the structure's time; above the 1× line: faster than every
    baseline), log scale, against n (log scale)."""
    panel_w, panel_h = 300, 210
    left, right, top, bottom = 46, 12, 30, 34
    legend_h = 36
    groups = [g for g, _, _ in GROUPS if any((g, s, n) in compared for s in STRUCTURES for n in sizes)]
    if not groups or len(sizes) < 2:
        return False
    rows = (len(groups) + columns - 1) // columns
    width, height = columns * panel_w, rows * panel_h + legend_h
    ratios = {}
    for group in groups:
        for n in sizes:
            row = {s: compared.get((group, s, n)) for s in STRUCTURES}
            baseline = best(row, BASELINES)
            for s in STRUCTURES:
                v = row.get(s)
                if baseline is not None and v is not None and v == v and v > 0:
                    ratios[(group, s, n)] = baseline / v
    y_lo, y_hi = -2.0, 2.0  # log2 of the ratio: 0.25x .. 4x, clamped
    x_lo, x_hi = math.log2(sizes[0]), math.log2(sizes[-1])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    for index, group in enumerate(groups):
        ox, oy = (index % columns) * panel_w, legend_h + (index // columns) * panel_h
        pw, ph = panel_w - left - right, panel_h - top - bottom

        def x(n):
            return ox + left + (math.log2(n) - x_lo) / (x_hi - x_lo) * pw

        def y(r):
            v = min(max(math.log2(r), y_lo), y_hi)
            return oy + top + (1 - (v - y_lo) / (y_hi - y_lo)) * ph

        out.append(f'<text x="{ox + left + pw / 2}" y="{oy + 18}" text-anchor="middle" font-size="12">{group}</text>')
        for mark in (0.25, 0.5, 1, 2, 4):
            yy = y(mark)
            stroke = "#888" if mark == 1 else "#e4e4e4"
            out.append(f'<line x1="{ox + left}" y1="{yy:.1f}" x2="{ox + left + pw}" y2="{yy:.1f}" stroke="{stroke}"/>')
            out.append(f'<text x="{ox + left - 4}" y="{yy + 3:.1f}" text-anchor="end">{mark:g}×</text>')
        for n in sizes:
            xx = x(n)
            label = f"{n // 1024}k" if n >= 1024 else str(n)
            out.append(f'<text x="{xx:.1f}" y="{oy + top + ph + 14}" text-anchor="middle">{label}</text>')
        out.append(f'<rect x="{ox + left}" y="{oy + top}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
        for structure in STRUCTURES:
            points = [(n, ratios[(group, structure, n)]) for n in sizes if (group, structure, n) in ratios]
            if not points:
                continue
            color = COLORS[structure]
            width_px = 2.2 if structure in LEVELS else 1.3
            d = " ".join(f"{'M' if i == 0 else 'L'}{x(n):.1f},{y(r):.1f}" for i, (n, r) in enumerate(points))
            out.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="{width_px}"/>')
            for n, r in points:
                out.append(
                    f'<circle cx="{x(n):.1f}" cy="{y(r):.1f}" r="2.2" fill="{color}">'
                    f"<title>{group} {structure} n={n}: {r:.2f}×</title></circle>"
                )
    for index, structure in enumerate(STRUCTURES):
        lx = 16 + index * 150
        out.append(f'<line x1="{lx}" y1="18" x2="{lx + 22}" y2="18" stroke="{COLORS[structure]}" stroke-width="2.2"/>')
        out.append(f'<text x="{lx + 28}" y="22" font-size="12">{structure}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return True


def load_compare(directory, key="min_ns"):
    """{(op, structure, n): ns per operation} from compare.json (LEVEL_COMPARE mode), already
    divided per table where the operation is per table; and the number of rounds."""
    path = os.path.join(directory, "compare.json")
    try:
        with open(path) as f:
            rows = json.load(f)
    except OSError:
        return {}, 0
    results = {(r["op"], r["structure"], r["n"]): r[key] for r in rows}
    rounds = max((r["rounds"] for r in rows), default=0)
    return results, rounds


def per(group_divisor, n, ns):
    if group_divisor == "n":
        return ns / n
    if group_divisor == "n+a":
        return ns / (n + max(n // 8, 16))
    return ns


def fmt_time(ns):
    if ns is None:
        return "–"
    if ns < 1e3:
        return f"{ns:.3g} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def fmt_ratio(baseline, level):
    if baseline is None or level is None or level == 0:
        return "–"
    ratio = baseline / level
    text = f"{ratio:.3g}×" if ratio < 100 else f"{ratio:.0f}×"
    return f"**{text}**" if ratio >= 1 else text


def markdown(results, divided=False, sizes=SIZES):
    lines = []
    header = (
        "| benchmark | n | level_1k | level_2k | sorted_vec | btreemap | indexset "
        "| 1k vs vec | 1k vs btreemap | 1k vs indexset | 2k vs vec | 2k vs btreemap | 2k vs indexset |"
    )
    lines.append(header)
    lines.append("|" + "|".join(["---"] * 13) + "|")
    for group, description, divisor in GROUPS:
        for n in sizes:
            row = {s: results.get((group, s, n)) for s in STRUCTURES}
            if all(v is None for v in row.values()):
                continue
            if not divided:
                row = {s: (per(divisor, n, v) if v is not None else None) for s, v in row.items()}
            cells = [f"`{group}`", f"{n:,}"] + [fmt_time(row[s]) for s in STRUCTURES]
            for level in LEVELS:
                cells += [fmt_ratio(row[b], row[level]) for b in BASELINES]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def benchmark_list():
    lines = ["Benchmarks:", ""]
    for group, description, _ in GROUPS:
        lines.append(f"- `{group}`: {description}")
    return "\n".join(lines)


def memory_markdown(directory):
    path = os.path.join(directory, "memory.json")
    try:
        with open(path) as f:
            rows = json.load(f)
    except OSError:
        return "(no memory.json: run the benchmark without BENCH_SKIP_MEMORY)"
    lines = [
        "| structure | n | reserved B/table | in use B/table | detail |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        n = row["n"]
        lines.append(
            f"| {row['structure']} | {n:,} | {row['reserved_bytes'] / n:.1f} "
            f"| {row['used_bytes'] / n:.1f} | {row['detail']} |"
        )
    return "\n".join(lines)


def svg_plot(results, group, divisor, title, y_label, path, sizes=SIZES):
    width, height = 720, 440
    left, right, top, bottom = 80, 150, 50, 60
    series = {}
    for structure in STRUCTURES:
        points = []
        for n in sizes:
            value = results.get((group, structure, n))
            if value is not None:
                points.append((n, per(divisor, n, value)))
        if points:
            series[structure] = points
    if not series:
        return False
    values = [v for points in series.values() for _, v in points]
    y_min = 10 ** math.floor(math.log10(min(values)))
    y_max = 10 ** math.ceil(math.log10(max(values)))
    if y_max <= y_min:
        y_max = y_min * 10
    x_min, x_max = math.log2(sizes[0]), math.log2(sizes[-1])

    def x(n):
        return left + (math.log2(n) - x_min) / (x_max - x_min) * (width - left - right)

    def y(v):
        return top + (1 - (math.log10(v) - math.log10(y_min)) / (math.log10(y_max) - math.log10(y_min))) * (
            height - top - bottom
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2 - right / 2 + left / 2}" y="24" text-anchor="middle" font-size="15">{title}</text>',
    ]
    # Grid and y labels: one per decade.
    decade = y_min
    while decade <= y_max * 1.0001:
        yy = y(decade)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{width - right}" y2="{yy:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{fmt_time(decade)}</text>')
        decade *= 10
    for n in sizes:
        xx = x(n)
        out.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{height - bottom}" stroke="#ddd"/>')
        out.append(f'<text x="{xx:.1f}" y="{height - bottom + 18}" text-anchor="middle">{n:,}</text>')
    out.append(
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" '
        'fill="none" stroke="#333"/>'
    )
    out.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 18}" text-anchor="middle">'
        "tables in the level (n, log scale)</text>"
    )
    out.append(
        f'<text x="18" y="{(top + height - bottom) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {(top + height - bottom) / 2})">{y_label}</text>'
    )
    for index, (structure, points) in enumerate(series.items()):
        color = COLORS[structure]
        path_d = " ".join(
            f"{'M' if i == 0 else 'L'}{x(n):.1f},{y(v):.1f}" for i, (n, v) in enumerate(points)
        )
        out.append(f'<path d="{path_d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for n, v in points:
            out.append(f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3.5" fill="{color}"><title>{structure} n={n}: {fmt_time(v)}</title></circle>')
        ly = top + 10 + index * 20
        lx = width - right + 14
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 22}" y2="{ly}" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{lx + 28}" y="{ly + 4}">{structure}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--criterion-dir")
    parser.add_argument("--svg-dir", default="docs")
    args = parser.parse_args()
    directory = criterion_dir(args.criterion_dir)
    results = load(directory)
    compared, rounds = load_compare(directory)
    medians, _ = load_compare(directory, "median_ns")
    if not results and not compared:
        sys.exit(f"no criterion results under {directory}")
    ratio_note = (
        "Ratio columns: baseline time ÷ level time, so **> 1 means the level is faster** (bold)."
    )
    sizes = compared_sizes(compared) if compared else SIZES
    if compared:
        print(f"## Best level against best baseline (best of {rounds} rounds)\n")
        print(ratio_markdown(compared, sizes))
        print(f"\n## Best level against best baseline (median of {rounds} rounds)\n")
        print(ratio_markdown(medians, sizes))
        print(f"\n## Interleaved comparison (best of {rounds} rounds)\n")
        print("Per call, or per table where the benchmark says so. " + ratio_note + "\n")
        print(markdown(compared, divided=True, sizes=sizes))
        print(f"\n## Interleaved comparison (median of {rounds} rounds)\n")
        print(markdown(medians, divided=True, sizes=sizes))
    if results:
        print("\n## Criterion (means)\n")
        print("Per call, or per table where the benchmark says so. " + ratio_note + "\n")
        print(markdown(results))
    plot_source, plot_divided = (compared, True) if compared else (results, False)
    print("\n" + benchmark_list())
    print("\n## Memory\n")
    print(memory_markdown(directory))
    plots = [
        ("insert", None, "Insert one table (random order) into a level of n", "time per insert", "insert_cost.svg"),
        ("remove", None, "Remove one table (random order) from a level of n", "time per remove", "remove_cost.svg"),
        ("iter_visible_asc", "n", "Full visible iteration, ascending", "time per table", "iteration_cost.svg"),
    ]
    for group, divisor, title, y_label, name in plots:
        path = os.path.join(args.svg_dir, name)
        if svg_plot(plot_source, group, None if plot_divided else divisor, title, y_label, path, sizes):
            print(f"\nwrote {path}", file=sys.stderr)
    path = os.path.join(args.svg_dir, "ratio_by_size.svg")
    if compared and svg_ratio_grid(compared, sizes, path):
        print(f"\nwrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
