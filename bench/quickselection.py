"""QuickSelection vs all features, random K and SelectKBest(mutual information), digits, ExtraTrees.

    nice -n 10 .venv/bin/python bench/quickselection.py                 # K = 16, seeds 0,1,2
    nice -n 10 .venv/bin/python bench/quickselection.py --k 8 --seeds 0

Rows: the app default (30 epochs, SGD lr 0.1) and the paper's schedule (100 epochs, lr 0.01). Test
accuracy of an ExtraTrees classifier (100 trees) on the selected pixels, mean ± std over seeds. The
CPU is shared with other jobs (times indicative only).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.runs.reporter import NullReporter  # noqa: E402
from engine.sparse.quickselection import QuickSelectionConfig, run_quickselection  # noqa: E402


def ms(v):
    return f"{100 * statistics.mean(v):.2f} ± {100 * (statistics.stdev(v) if len(v) > 1 else 0):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--k", type=int, default=16)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"digits, K = {args.k} of 64 pixels, ExtraTrees test accuracy %, seeds {args.seeds}")
    print(f"{'schedule':<22} {'QuickSelection':>15} {'all 64':>15} {'random K':>15} {'mutual info K':>15} {'s/run':>6}")
    for label, epochs, lr in (("30 ep, lr 0.1 (app)", 30, 0.1), ("100 ep, lr 0.01 (paper)", 100, 0.01)):
        rs = [run_quickselection(QuickSelectionConfig(k_features=args.k, epochs=epochs, lr=lr, seed=s), NullReporter())
              for s in seeds]
        acc = {k: [r["accuracy"][k] for r in rs] for k in rs[0]["accuracy"]}
        print(f"{label:<22} {ms(acc['quickselection']):>15} {ms(acc['all features']):>15} {ms(acc['random K']):>15} "
              f"{ms(acc['mutual information (SelectKBest)']):>15} {statistics.mean(r['seconds'] for r in rs):>6.1f}")


if __name__ == "__main__":
    main()
