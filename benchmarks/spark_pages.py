"""Each role's page workload on Spark SQL: the demo company written as Parquet into a throwaway
Spark Thrift Server (as tests/db does), then the queries of `make bench`'s page workloads, timed
and counted, on Spark alone, beside the app's DuckDB file (its rollups summed in Spark), and on
the demo's DuckDB file.

    python benchmarks/spark_pages.py --db data/demo.duckdb          # needs Java and `make spark`
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench  # noqa: E402
from kpi.engine import Engine  # noqa: E402
from kpi.split import SplitStore  # noqa: E402
from kpi.store import DuckDBStore, SqlStore, Store, connect  # noqa: E402
from tests.split_setup import app_file, summed_beside  # noqa: E402


def workloads(store: Store, runs: int, counted: Store | None = None
              ) -> dict[str, tuple[int, float, float]]:
    """page -> (queries, cold seconds, warm seconds: the median of the later runs); the queries
    are those sent to ``counted`` (by default the store itself)."""
    out = {}
    counted = counted or store
    for name in ("executive", "manager", "rep"):
        counter = bench.Counted(counted)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            getattr(bench, f"page_{name}")(Engine(store))
            times.append(time.perf_counter() - started)
        queries = counter.queries // runs
        del counted.rows  # type: ignore[attr-defined]
        out[name] = (queries, times[0], sorted(times[1:])[len(times[1:]) // 2])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "demo.duckdb")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    import pyspark

    from tests.db.spark import SparkProcesses, load_parquet

    bench.TEAM, bench.REP = "T1", "R001"  # the demo's first team and rep
    spark = SparkProcesses(Path(pyspark.__file__).parent)
    try:
        url = spark.thrift_server("local[2]")
        with tempfile.TemporaryDirectory() as folder:
            load_parquet(url, args.db, Path(folder))
            store = SqlStore.open_url(url)
            on_spark = workloads(store, args.runs)
            store.close()
            app = app_file(args.db, Path(folder) / "app.duckdb")
            started = time.perf_counter()
            summed_beside(SqlStore.open_url(url), app).close()
            summing = time.perf_counter() - started
            beside = connect(url, app=app)
            assert isinstance(beside, SplitStore)
            on_split = workloads(beside, args.runs, counted=beside.warehouse)
            beside.close()
    finally:
        spark.stop()
    with DuckDBStore.open(args.db) as duck:
        on_duckdb = workloads(duck, args.runs)
    lines = ["## Pages on Spark", "",
             f"Run {dt.datetime.now():%Y-%m-%d %H:%M} on {platform.platform()}, Spark "
             f"{pyspark.__version__} (local[2], one JVM) through PyHive, the demo "
             f"({args.db.name}; `python benchmarks/spark_pages.py --write`): each role's page "
             f"workload of `make bench`; cold = first run, warm = median of the "
             f"{args.runs - 1} later runs, each on a new engine (which asks the warehouse "
             "whether the rollups are current). Spark alone reads its raw tables; beside the "
             "app's DuckDB file (`--app-db`, kpi/split.py) the rollups are summed in Spark and "
             f"kept in the file ({summing:.0f} s for the demo, as `python -m kpi refresh` does), "
             "and a page asks Spark only what the file cannot answer; DuckDB reads the demo's "
             "rollups.", "",
             "| page | Spark alone: queries | cold (s) | warm (s) | beside the file: queries "
             "to Spark | cold (s) | warm (s) | DuckDB warm (s) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} | {queries} | {cold:.1f} | {warm:.1f} | {on_split[name][0]} | "
              f"{on_split[name][1]:.1f} | {on_split[name][2]:.1f} | {on_duckdb[name][2]:.2f} |"
              for name, (queries, cold, warm) in on_spark.items()]
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        from benchmarks.loadtest import replace_section

        replace_section(ROOT / "benchmarks" / "RESULTS.md", section)


if __name__ == "__main__":
    main()
