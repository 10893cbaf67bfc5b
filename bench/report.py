"""The table `make bench` prints, and the JSON it writes."""
from __future__ import annotations

import json
from pathlib import Path


def _verdict(met) -> str:
    return {True: "met", False: "MISSED", None: "skipped"}[met]


def _row(cells: list, widths: list[int]) -> str:
    return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def print_table(results: dict) -> None:
    widths = [34, 4, 9, 8, 8, 6, 20, 7, 8]
    print("\n" + _row(["case", "run", "req/s", "p50 ms", "p99 ms", "errors", "baseline req/s", "ratio", "goal"],
                      widths))
    print("-" * (sum(widths) + 2 * len(widths)))
    for case in results["cases"]:
        if case.get("skipped"):
            print(_row([case["name"], "-", "-", "-", "-", "-", case["baseline"], "-", "skipped"], widths))
            continue
        for i, (ugene, base) in enumerate(zip(case["ugene"], case["baseline_runs"])):
            goal = f"≥{case['goal']['ratio_min']}" if i == 0 else _verdict(case["met"])
            print(_row([case["name"] if i == 0 else "", i + 1, f"{ugene['rps']:.0f}", f"{ugene['p50_ms']:.2f}",
                        f"{ugene['p99_ms']:.2f}", ugene["errors"], f"{base['rps']:.0f} ({case['baseline'][:12]})",
                        f"{case['ratios'][i]:.2f}", goal], widths))
    for case in results["cases"]:
        if not case.get("skipped"):
            print(_row([f"  baseline: {case['baseline']}", "", " / ".join(f"{b['rps']:.0f}" for b in
                                                                            case["baseline_runs"]),
                        f"{case['baseline_runs'][-1]['p50_ms']:.2f}", f"{case['baseline_runs'][-1]['p99_ms']:.2f}",
                        sum(b["errors"] for b in case["baseline_runs"]), "", "", ""], widths))
    iso = results["isolation"]
    if iso.get("skipped"):
        print(_row(["isolation: status during signin", "-", "-", "-", "-", "-", "", "", "skipped"], widths))
    else:
        for i, run in enumerate(iso["runs"]):
            s = run["status"]
            print(_row(["isolation: status during signin" if i == 0 else "", i + 1, f"{s['rps']:.0f}",
                        f"{s['p50_ms']:.2f}", f"{s['p99_ms']:.2f}", s["errors"],
                        f"signin {run['signin']['rps']:.0f}/s", "", "p99<50" if i == 0 else _verdict(iso["met"])],
                       widths))
    admin = results["admin"]
    if admin.get("skipped"):
        print(_row(["admin/show-users 3 letters, 1M", "-", "-", "-", "-", "-", "", "", "skipped"], widths))
    else:
        for i, run in enumerate(admin["runs"]):
            print(_row(["admin/show-users 3 letters, 1M" if i == 0 else "", i + 1, f"{run['rps']:.0f}",
                        f"{run['p50_ms']:.2f}", f"{run['p99_ms']:.2f}", run["errors"], "", "",
                        "p50<20" if i == 0 else _verdict(admin["met"])], widths))
    memory = results["memory"]
    print(_row(["memory: worker peak RSS (VmHWM)", "", f"{memory['peak_rss_mb']} MB", "", "", "", "", "",
                f"<150 {_verdict(memory['met'])}"], widths))
    meta = results["meta"]
    print(f"\n{meta['seconds']} s measured after {meta['warmup']} s of warm-up, {meta['connections']} connections; "
          f"load average {meta['load_average_before']} before, {meta['load_average_after']} after; "
          f"{meta['wall_seconds']} s in all; baseline on the {meta['baseline_loop']} event loop")


def write_json(results: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path
