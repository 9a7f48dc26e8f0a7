"""`make validate`: the rollout-effect estimates against the demo company's answer key, seed by seed.

Builds the demo company for each seed (under a temporary folder unless ``--dir`` is given; existing
databases there are reused), estimates the rollout's effect on every lever that ``demo_truth``
lists and on win rate, each with its placebo, and prints one table per metric: the estimate per
seed, the mean absolute error against the truth (percentage points), how often the 90% interval
holds the truth, how often an effect is flagged (the interval excludes zero) and how often the
placebo is flagged. ``--out`` also writes the tables as Markdown.

    python benchmarks/validate_rollout.py --seeds 1-10 --out benchmarks/out/validate_rollout.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kpi.demo import DemoConfig, build  # noqa: E402
from kpi.engine import Engine, Scope  # noqa: E402
from kpi.insights.rollout import RolloutEffect, estimate, estimate_output  # noqa: E402
from kpi.store import DuckDBStore  # noqa: E402
from kpi.views import initiatives_for  # noqa: E402

LEVERS = ("new_prospect_meetings", "demos", "proposals_sent", "opps_created", "calls")
OUTPUTS = ("win_rate",)
PLACEBO_WEEKS = 26


def seeds(text: str) -> list[int]:
    """'1-10' or '1,2,7' -> the seeds."""
    if "-" in text:
        lo, hi = text.split("-")
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(",")]


def run_seed(seed: int, folder: Path) -> tuple[dict[str, tuple], float]:
    """metric -> (truth, estimate, placebo) for one seed, and the seconds the estimates took."""
    path = folder / f"demo-seed{seed}.duckdb"
    if not path.exists():
        build(path, DemoConfig(seed=seed))
    with DuckDBStore.open(path) as store:
        engine = Engine(store)
        initiative = initiatives_for(engine, Scope.everyone())[0]
        truth = dict(store.rows("SELECT metric_id, max(effect_pct) FROM demo_truth GROUP BY 1")[1])
        started = time.perf_counter()
        cache: dict = {}
        out = {m: (truth[m], estimate(engine, initiative, m, cache=cache),
                   estimate(engine, initiative, m, shift_weeks=PLACEBO_WEEKS, cache=cache))
               for m in LEVERS}
        cache = {}
        out |= {m: (truth[m], estimate_output(engine, initiative, m, cache=cache),
                    estimate_output(engine, initiative, m, shift_weeks=PLACEBO_WEEKS,
                                    cache=cache)) for m in OUTPUTS}
        return out, time.perf_counter() - started


def covers(result: RolloutEffect, value: float) -> bool:
    return result.low is not None and result.high is not None and result.low <= value <= result.high


def summary(results: dict[int, dict[str, tuple]]) -> list[dict]:
    """One row per metric: truth, estimates per seed, MAE, coverage, flags, placebo flags."""
    rows = []
    for metric in (*LEVERS, *OUTPUTS):
        cases = [results[s][metric] for s in results]
        truth = cases[0][0]
        errors = [abs(e.effect - t) for t, e, _ in cases if e.effect is not None]
        rows.append({
            "metric": metric, "truth": truth,
            "estimates": {s: results[s][metric][1].effect for s in results},
            "mae": statistics.mean(errors) if len(errors) == len(cases) else None,
            "bias": statistics.mean(e.effect - t for t, e, _ in cases)
            if len(errors) == len(cases) else None,
            "width": statistics.mean(e.high - e.low for _, e, _ in cases if e.low is not None),
            "covered": sum(covers(e, t) for t, e, _ in cases),
            "flagged": sum(e.significant for _, e, _ in cases),
            "placebo": sum(p.significant for _, _, p in cases),
            "n": len(cases),
        })
    return rows


def pct(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:+.{digits}%}"


def markdown(rows: list[dict], seconds: list[float]) -> str:
    """The estimates per seed, then the scores, as two Markdown tables."""
    seed_list = list(rows[0]["estimates"])
    head = "| metric | truth | " + " | ".join(f"seed {s}" for s in seed_list) + " |"
    lines = [head, "|" + "---|" * (len(seed_list) + 2)]
    for r in rows:
        cells = [pct(r["estimates"][s], 1) for s in seed_list]
        lines.append(f"| {r['metric']} | {pct(r['truth'])} | " + " | ".join(cells) + " |")
    lines += ["", "| metric | truth | MAE (points) | bias (points) | mean 90% width (points) | "
              "truth in 90% interval | flagged as an effect | placebo flagged |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        mae = "n/a" if r["mae"] is None else f"{100 * r['mae']:.1f}"
        bias = "n/a" if r["bias"] is None else f"{100 * r['bias']:+.1f}"
        lines.append(f"| {r['metric']} | {pct(r['truth'])} | {mae} | {bias} | "
                     f"{100 * r['width']:.0f} | {r['covered']}/{r['n']} | "
                     f"{r['flagged']}/{r['n']} | {r['placebo']}/{r['n']} |")
    levers = [r for r in rows if r["metric"] in LEVERS]
    covered = sum(r["covered"] for r in levers)
    cases = sum(r["n"] for r in levers)
    lines += ["", f"Lever x seed coverage: {covered}/{cases} ({covered / cases:.0%}). "
              f"Estimates and placebos per seed: median {statistics.median(seconds):.1f} s."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-10", help="'1-10' or '1,2,7'")
    parser.add_argument("--dir", type=Path, help="where the demo databases are kept (reused)")
    parser.add_argument("--out", type=Path, help="also write the tables here (Markdown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leverboard-validate-") as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        results, seconds = {}, []
        for seed in seeds(args.seeds):
            results[seed], took = run_seed(seed, folder)
            seconds.append(took)
            print(f"seed {seed}: {took:.1f} s", file=sys.stderr, flush=True)
    table = markdown(summary(results), seconds)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(table)


if __name__ == "__main__":
    main()
