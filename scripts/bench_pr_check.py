#!/usr/bin/env python3
"""Benchmark the pull-request check of every example: one command against one process per step.

"Per example" is how the workflow ran before `aifactory pr`: for each example blueprint, a
process for its plan, two for its check (SARIF and Markdown), and one for its manifest check
with checkov's own start-up each time. "One command" is `aifactory pr` over all examples: plans,
rules, rendered manifests (strict Kubernetes and CRD schemas), one checkov run, SARIF and the
comment. Both run the same code and write into a temporary folder; each figure is the best wall
time of --repeat runs (the machine is shared).

    .venv/bin/python scripts/bench_pr_check.py [--repeat 2] [--budget 20]

Prints both, their ratio, and whether the one command stays under the budget (seconds).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIFACTORY = str(ROOT / ".venv" / "bin" / "aifactory")
EXAMPLES = sorted((ROOT / "blueprints" / "examples").glob("*.yaml"))


def timed(cmd: list[str], ok: tuple[int, ...] = (0, 1)) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in ok:
        sys.exit(f"{' '.join(cmd)}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return seconds


def per_example(out: Path) -> dict[str, float]:
    """Seconds per example, one process per step (plan, check x2, check --manifests)."""
    figures = {}
    for bp in EXAMPLES:
        plan = out / f"{bp.stem}.plan.json"
        figures[bp.stem] = (
            timed([AIFACTORY, "plan", str(bp), "--format", "json", "--out", str(plan)])
            + timed([AIFACTORY, "check", str(plan), "--format", "sarif", "--out",
                     str(out / f"{bp.stem}.sarif")])
            + timed([AIFACTORY, "check", str(plan), "--format", "markdown", "--out",
                     str(out / f"{bp.stem}.md")])
            + timed([AIFACTORY, "check", str(bp), "--manifests"]))
    return figures


def one_command(out: Path) -> float:
    return timed([AIFACTORY, "pr", *map(str, EXAMPLES), "--out", str(out)])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--budget", type=float, default=20.0)
    args = p.parse_args()
    best_each: dict[str, float] = {}
    best_one = float("inf")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            for name, seconds in per_example(Path(tmp)).items():
                best_each[name] = min(best_each.get(name, float("inf")), seconds)
        with tempfile.TemporaryDirectory() as tmp:
            best_one = min(best_one, one_command(Path(tmp)))
    total = sum(best_each.values())
    print(f"PR check of {len(EXAMPLES)} examples (best of {args.repeat}, 2 cores shared)")
    print(f"{'example':<16}{'per example, s':>16}")
    for name, seconds in best_each.items():
        print(f"{name:<16}{seconds:>16.1f}")
    print(f"{'total':<16}{total:>16.1f}   (4 processes per example, a checkov start each)")
    print(f"{'aifactory pr':<16}{best_one:>16.1f}   (one process, one checkov run)")
    print(f"ratio one command / per example: {best_one / total:.2f} "
          f"({total / best_one:.1f}x faster)")
    verdict = "under" if best_one < args.budget else "OVER"
    print(f"one command: {best_one:.1f} s, {verdict} the {args.budget:g} s budget")
    return 0 if best_one < args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
