"""Plant each bug of the regression list (docs/testing.md) in a copy of the tree, one at a time,
and list the fast tests that catch it. The working tree is never touched.

    python scripts/planted_bugs.py              # every bug, against `make test-fast`'s tests
    python scripts/planted_bugs.py --bug rep_trend_scope --tests tests/unit/test_views.py

A bug no test catches is a hole in the suite: the script says so and exits with status 1.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutate import copy_tree  # noqa: E402

# name -> (what it does wrong, file, text, the text it becomes)
BUGS: dict[str, tuple[str, str, str, str]] = {
    "win_rate_open_deals": (
        "win rate counts open deals in the denominator",
        "kpi/catalog/metrics.yaml",
        "    denominator: {source: opps_closed, agg: count}\n",
        "    denominator: {source: opps_created, agg: count}\n"),
    "as_of_today": (
        "as-of attribution uses today's team",
        "kpi/engine.py",
        '_CURRENT_JOIN if request.attribution == "current" else _AS_OF_JOIN',
        "_CURRENT_JOIN"),
    "rep_weeks_by_5": (
        "rep-weeks divide rep-days by 5",
        "kpi/catalog/__init__.py",
        'REP_WEEKS = Measure(source="rep_days", agg="count", divide=7.0)',
        'REP_WEEKS = Measure(source="rep_days", agg="count", divide=5.0)'),
    "baseline_week_early": (
        "the baseline window is one week early",
        "kpi/initiatives.py",
        "return self.rollout_date - dt.timedelta(weeks=self.baseline_weeks)\n",
        "return self.rollout_date - dt.timedelta(weeks=self.baseline_weeks + 1)\n"),
    "rep_trend_scope": (
        "views.rep_trend (no initiative) drops the rep scope",
        "kpi/views/rep.py",
        "        frame = engine.run(MetricRequest.make(lever, grain=grain, scope=scope,\n"
        "                                              date_from=window.start, date_to=window.end))\n"
        "        base = baseline_window(None, window.end)",
        "        frame = engine.run(MetricRequest.make(lever, grain=grain, scope=Scope.everyone(),\n"
        "                                              date_from=window.start, date_to=window.end))\n"
        "        base = baseline_window(None, window.end)"),
    "negative_amount_row_late": (
        "a negative amount is reported one row late (--on-error skip drops the good row)",
        "kpi/ingest/rules.py",
        '"amounts are zero or more; fix the sign", _negative("amount")),',
        '"amounts are zero or more; fix the sign",\n'
        '         lambda f: _negative("amount")(f).shift(1, fill_value=False)),'),
    "groups_union_all": (
        "the groups CTE keeps duplicates for ratio metrics",
        "kpi/engine.py",
        'union = " UNION ".join(',
        'union = " UNION ALL ".join('),
    "groups_per_period": (
        "a single-measure metric split by a dimension returns each row once per period",
        "kpi/engine.py",
        'f"SELECT DISTINCT {keys} FROM m{i}"',
        'f"SELECT {keys} FROM m{i}"'),
    "rollup_max_not_sum": (
        "a measure read from a rollup takes the busiest rep-day instead of adding the rep-days",
        "kpi/engine.py",
        'total = f"sum(f.{name})" if',
        'total = f"max(f.{name})" if'),
    "batch_rows_to_first": (
        "a section's query hands every row to its first request",
        "kpi/engine.py",
        "out[row[0]][1].append(batch.unpack[row[0]](row))",
        "out[0][1].append(batch.unpack[row[0]](row))"),
    "company_rollup_for_a_team": (
        "a team's numbers read the company's rollup (everyone's rows) when it answers the split",
        "kpi/engine.py",
        "and (everyone or not r.company) and r.answers(dimensions)",
        "and r.answers(dimensions)"),
    "copy_without_its_industry": (
        "the deals' copy takes each deal's industry from the wrong account (the rep's first)",
        "kpi/rollups.py",
        'f"""SELECT f.*, {INDUSTRY} AS industry FROM ({SOURCES[source].sql}) f',
        'f"""SELECT f.*, first({INDUSTRY}) OVER (PARTITION BY f.rep_id) AS industry '
        'FROM ({SOURCES[source].sql}) f'),
}
FAST = ["-m", "not slow", "tests/unit", "tests/ingest"]


def failing(tree: Path, tests: list[str]) -> set[str]:
    """Test ids that fail (or error) in ``tree``."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-W", "ignore", "-rfE", "--tb=no", *tests], cwd=tree,
                          capture_output=True, text=True)
    return set(re.findall(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", done.stdout, flags=re.M))


def plant(tree: Path, name: str) -> None:
    _, path, old, new = BUGS[name]
    text = (tree / path).read_text()
    if text.count(old) != 1:
        raise SystemExit(f"{name}: the code it changes ({path}) is no longer as written here")
    (tree / path).write_text(text.replace(old, new))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bug", action="append", choices=sorted(BUGS), help="one bug (repeatable)")
    parser.add_argument("--ref", help="plant in this commit instead of the working tree")
    parser.add_argument("--tests", nargs="*", default=FAST, help="pytest arguments")
    args = parser.parse_args()
    holes = []
    with tempfile.TemporaryDirectory(prefix="leverboard-plant-") as scratch:
        clean, tree = Path(scratch) / "clean", Path(scratch) / "tree"
        copy_tree(args.ref, clean)
        already = failing(clean, args.tests)
        if already:
            print(f"failing before any bug is planted (ignored): {', '.join(sorted(already))}")
        for name in args.bug or BUGS:
            shutil.rmtree(tree, ignore_errors=True)
            shutil.copytree(clean, tree)
            plant(tree, name)
            caught = sorted(failing(tree, args.tests) - already)
            print(f"\n{name}: {BUGS[name][0]}\n  caught by {len(caught)} test(s)")
            print("".join(f"    {t}\n" for t in caught), end="")
            if not caught:
                holes.append(name)
    if holes:
        raise SystemExit(f"not caught: {', '.join(holes)}")


if __name__ == "__main__":
    main()
