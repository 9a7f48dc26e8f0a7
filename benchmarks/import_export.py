"""The import benchmark: a Salesforce org export of company size, imported with the salesforce preset.

Writes a Data Loader style export into ``benchmarks/out/sf-export-<rows>/`` (git-ignored, built
once): ``Opportunity.csv`` with ``--rows`` deals (2.7 million by default, about 270 MB: API column
names, 18-character ids, ``2024-03-01T10:00:00.000+0000`` created dates, ``1`` / blank booleans,
the default stages, a few blank amounts and owners) and ``User.csv`` naming the 2,000 owners. Then
imports it twice into a fresh DuckDB file, each time with ``python -m kpi import`` in its own
process, and records wall time, that process's peak RSS and the database file's size after each.

    python benchmarks/import_export.py                 # prints the Markdown section
    python benchmarks/import_export.py --write         # and puts it into benchmarks/RESULTS.md
    python benchmarks/import_export.py --rows 270000   # a tenth, for a quick look

`make bench` runs it as part of the whole benchmark; `make bench-import` runs it alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
OWNERS = 2_000
STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
          "Id. Decision Makers", "Proposal/Price Quote", "Negotiation/Review", "Closed Won",
          "Closed Lost"]
ALPHABET = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"))


def sf_ids(prefix: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct 18-character Salesforce-shaped ids: prefix, a counter, a random suffix."""
    counter = np.char.zfill(np.arange(n).astype(str), 9)
    suffix = ["".join(c) for c in rng.choice(ALPHABET, size=(n, 18 - 3 - 9))]
    return np.char.add(np.char.add(prefix, counter), np.array(suffix))


def build(folder: Path, rows: int, seed: int = 7) -> Path:
    """The export folder for ``rows`` deals (kept when it already exists)."""
    import pandas as pd

    if (folder / "Opportunity.csv").exists():
        return folder
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    owners = sf_ids("005", OWNERS, rng)
    users = pd.DataFrame({"Id": owners, "Name": [f"Seller {i:04d}" for i in range(OWNERS)],
                          "Email": [f"seller{i:04d}@example.com" for i in range(OWNERS)],
                          "IsActive": "1", "Department": "Sales"})
    users.to_csv(folder / "User.csv", index=False)
    start = np.datetime64("2023-01-02")
    created = start + rng.integers(0, 700, rows).astype("timedelta64[D]")
    stage = rng.choice(len(STAGES), rows, p=[.05, .05, .04, .04, .03, .04, .05, .3, .4])
    closed = stage >= 7
    length = rng.integers(5, 120, rows).astype("timedelta64[D]")
    close = np.where(closed, created + length, created + length + 30)
    amount = rng.integers(1_000, 90_000, rows).astype(str)
    amount[rng.random(rows) < 0.01] = ""
    owner = owners[rng.integers(0, OWNERS, rows)]
    owner[rng.random(rows) < 0.001] = ""
    seconds = rng.integers(0, 86_400, rows)
    clock = [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000+0000" for s in seconds]
    chunk = 500_000
    ids = sf_ids("006", rows, rng)
    with open(folder / "Opportunity.csv", "w", newline="") as f:
        f.write("Id,OwnerId,StageName,Amount,CloseDate,IsClosed,IsWon,CreatedDate\n")
        for lo in range(0, rows, chunk):
            hi = min(lo + chunk, rows)
            pd.DataFrame({
                "Id": ids[lo:hi], "OwnerId": owner[lo:hi],
                "StageName": np.array(STAGES)[stage[lo:hi]], "Amount": amount[lo:hi],
                "CloseDate": close[lo:hi].astype(str),
                "IsClosed": np.where(closed[lo:hi], "1", ""),
                "IsWon": np.where(stage[lo:hi] == 7, "1", ""),
                "CreatedDate": np.char.add(created[lo:hi].astype(str), np.array(clock[lo:hi])),
            }).to_csv(f, index=False, header=False)
    return folder


def timed_import(folder: Path, db: Path) -> dict[str, float]:
    """One ``python -m kpi import`` in its own process: seconds, its peak RSS, the file's size."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, "import", "--db", str(db), "--preset",
                           "salesforce", str(folder)], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the import failed:\n{done.stdout}{done.stderr}")
    wal = db.with_name(db.name + ".wal")
    size = db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    rss = float(done.stdout.strip().splitlines()[-1].removeprefix("peak RSS MB "))
    return {"seconds": seconds, "rss_mb": rss, "size_mb": size / 2**20}


# `python -m kpi import ...` that then says its own peak RSS (the parent's, which built the export
# in pandas, would be counted by the child's ru_maxrss)
CHILD = ("import sys\nfrom kpi.cli import main\nfrom benchmarks.rss import peak_rss_mb\n"
         "code = main(sys.argv[1:])\nprint(f'peak RSS MB {peak_rss_mb()}')\nsys.exit(code)")


def same_numbers(folder: Path, db: Path) -> None:
    """The imported deals against pandas reading the CSV: count, won deals, won revenue, open."""
    import duckdb
    import pandas as pd

    raw = pd.read_csv(folder / "Opportunity.csv", dtype=str, keep_default_na=False)
    won = raw["IsWon"].eq("1")
    amount = pd.to_numeric(raw["Amount"].replace("", "0"))
    want = (len(raw), int(won.sum()), float(amount[won].sum()), int(raw["IsClosed"].ne("1").sum()))
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute("SELECT count(*), count(*) FILTER (is_won), "
                          "coalesce(sum(amount) FILTER (is_won), 0), "
                          "count(*) FILTER (NOT is_closed) FROM opportunities").fetchone()
    if (got[0], got[1], round(float(got[2]), 2), got[3]) != (want[0], want[1], round(want[2], 2),
                                                             want[3]):
        raise SystemExit(f"the imported deals differ from the CSV: {got} != {want}")


def run(rows: int) -> str:
    folder = build(OUT / f"sf-export-{rows}", rows)
    export_mb = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    db = OUT / "import-bench.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    first = timed_import(folder, db)
    again = timed_import(folder, db)
    same_numbers(folder, db)
    growth = again["size_mb"] / first["size_mb"] - 1
    lines = [HEADING, "", machine(), "",
             f"Salesforce export of {rows:,} deals and {OWNERS:,} users ({export_mb:.0f} MB of CSV), "
             "`python -m kpi import --preset salesforce FOLDER` into a new DuckDB file, then the "
             "same folder again; deals, won deals, won revenue and open deals checked against "
             "pandas reading the CSV; peak RSS is the import process's own. Goals: at most 60 s and "
             "1.5 GB peak RSS; the second import leaves the file within 10% of its size.", "",
             "| import | time (s) | peak RSS (MB) | database file (MB) |", "|---|---:|---:|---:|"]
    for name, r in (("first", first), ("same files again", again)):
        lines.append(f"| {name} | {r['seconds']:.1f} | {r['rss_mb']:.0f} | {r['size_mb']:.0f} |")
    lines += ["", f"file size after the second import: {growth:+.1%}"]
    shutil.rmtree(db.parent / "import-bench.duckdb.tmp", ignore_errors=True)
    return "\n".join(lines) + "\n"


HEADING = "## Importing a Salesforce export"


def machine() -> str:
    import platform

    import duckdb
    import pandas as pd
    import pyarrow

    return (f"Run {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores, "
            f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM, "
            f"{platform.platform()}; Python {platform.python_version()}, DuckDB "
            f"{duckdb.__version__}, pandas {pd.__version__}, pyarrow {pyarrow.__version__}.")


def replace_section(results: Path, section: str) -> None:
    """Put ``section`` into RESULTS.md in place of the last one (or at its end)."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    if HEADING in text:
        head, _, rest = text.partition(HEADING)
        following = rest.find("\n## ")
        text = head + section + (rest[following + 1:] if following >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_700_000)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    section = run(args.rows)
    print(section)
    if args.write:
        replace_section(ROOT / "benchmarks" / "RESULTS.md", section)


if __name__ == "__main__":
    main()
