"""Migration and churn warning for 1M order lines, against one file-to-tiers run.

Usage::

    python benchmarks/bench_dynamics.py                  # 1M order lines, 3 runs each
    python benchmarks/bench_dynamics.py --lines 1000000 --runs 5

Uses the synthetic orders file of ``bench_engine.py`` (made on first use under
``benchmarks/data/``). Each measurement runs in a fresh process, modules imported before the
clock starts; the figure is the median over the runs.

- tiers       : ``load_orders`` + ``customer_metrics`` + ``assign_tiers`` (one file-to-tiers run);
- dynamics    : on the loaded file, ``migrate`` (tiers at the latest date and one quarter earlier)
                + ``churn_risk`` on the later tiers (the current ones, so computed once): what
                the migration and churn pages compute;
- end-to-end  : ``load_orders`` + the dynamics (what ``python -m segcore migrate`` / ``churn`` do);
- also, for information: ``lifecycle``, ``rising_customers`` and ``follow_ups`` on the loaded file.

Target: the dynamics take at most twice the time from the file to the tiers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_tiers(path: str) -> dict:
    import time

    import segcore
    t = time.perf_counter()
    ds = segcore.load_orders(path)
    segcore.assign_tiers(segcore.customer_metrics(ds.con))
    return {"seconds": time.perf_counter() - t}


def _dynamics(con):
    import segcore
    from segcore.dynamics import churn_risk, migrate
    rules = segcore.TierRules()
    mig = migrate(con, rules, period="quarter")
    tiered = mig.after  # the tiers at the latest date: the current tiers, computed once
    risk = churn_risk(tiered, rules.labels)
    return mig, tiered, risk


def run_dynamics(path: str) -> dict:
    import time

    import segcore
    ds = segcore.load_orders(path)
    t = time.perf_counter()
    mig, tiered, risk = _dynamics(ds.con)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "customers": len(tiered), "at_risk": len(risk),
            "movements": dict(zip(mig.summary.movement, mig.summary.customers.astype(int).tolist()))}


def run_end_to_end(path: str) -> dict:
    import time

    import segcore
    t = time.perf_counter()
    ds = segcore.load_orders(path)
    _dynamics(ds.con)
    return {"seconds": time.perf_counter() - t}


def run_extras(path: str) -> dict:
    import time

    import segcore
    from segcore.dynamics import lifecycle, rising_customers
    from segcore.playbook import follow_ups
    ds = segcore.load_orders(path)
    tiered = segcore.assign_tiers(segcore.customer_metrics(ds.con))
    out = {}
    for name, fn in (("lifecycle", lambda: lifecycle(ds.con, tiered)),
                     ("rising", lambda: rising_customers(tiered)),
                     ("follow_ups", lambda: follow_ups(tiered))):
        t = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t
    return out


def measure(kind: str, path: Path) -> dict:
    """Run ``run_<kind>`` in a fresh process and return what it reports."""
    code = (f"import sys, json; sys.path.insert(0, {str(HERE)!r}); sys.path.insert(0, {str(HERE.parent)!r});"
            "import segcore, segcore.dynamics, segcore.playbook, bench_dynamics as b;"
            f"print(json.dumps(b.run_{kind}({str(path)!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_engine import make_orders

    path = make_orders(args.lines)
    results = {kind: [measure(kind, path) for _ in range(args.runs)]
               for kind in ("tiers", "dynamics", "end_to_end")}
    median = {kind: statistics.median(r["seconds"] for r in runs) for kind, runs in results.items()}
    extras = [measure("extras", path) for _ in range(args.runs)]
    info = results["dynamics"][0]
    print(f"{args.lines:,} order lines ({path.stat().st_size / 2**20:.0f} MB), {info['customers']:,} customers; "
          f"median of {args.runs} runs, each in a fresh process")
    print(f"movements: {info['movements']}; at risk: {info['at_risk']:,}")
    print()
    print("| run | seconds | / file-to-tiers |")
    print("|---|---|---|")
    print(f"| file-to-tiers (load + metrics + tiers) | {median['tiers']:.2f} | 1.00x |")
    print(f"| migration + churn, file loaded | {median['dynamics']:.2f} | "
          f"{median['dynamics'] / median['tiers']:.2f}x |")
    print(f"| load + migration + churn | {median['end_to_end']:.2f} | "
          f"{median['end_to_end'] / median['tiers']:.2f}x |")
    for name in ("lifecycle", "rising", "follow_ups"):
        print(f"| {name}, file loaded | {statistics.median(e[name] for e in extras):.2f} | "
              f"{statistics.median(e[name] for e in extras) / median['tiers']:.2f}x |")
    ok = median["dynamics"] <= 2 * median["tiers"]
    print(f"\nTarget: migration + churn within 2x of file-to-tiers: {'met' if ok else 'NOT met'} "
          f"({median['dynamics'] / median['tiers']:.2f}x)")


if __name__ == "__main__":
    main()
