"""A company-scale leverboard database, generated inside DuckDB (seconds, little memory).

Every value comes from ``hash()`` of the row number, so the same size gives the same data.
Activities and opportunities are stored in rep order (as a warehouse would cluster them), so
DuckDB's zone maps let a one-rep query skip most of the table.
2,000 reps in 200 teams (a fifth of them move team halfway), 50,000 accounts, two years of
activities and opportunities (one opportunity per ten activities), quarterly quotas, and one
strategy rollout. Users: ``exec`` (Morgan Hale), ``mgr-t1`` (Atlas Manager), ``rep-r0001``
(Ada Fischer), and a demo marker so the demo sign-in works.

    python benchmarks/scale.py --activities 10000000 --db benchmarks/out/scale-10m.duckdb
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kpi import rollups, schema, stages  # noqa: E402
from kpi.store import DuckDBStore  # noqa: E402

START = "2024-10-01"
DAYS = 730
INDUSTRIES = ["Technology", "Healthcare", "Financial Services", "Retail", "Manufacturing",
              "Education", "Energy", "Logistics", "Media"]


def h(expr: str, salt: int, modulo: int) -> str:
    """A deterministic pseudo-random integer in [0, modulo) from a row number."""
    return f"CAST(hash({expr} * 7919 + {salt}) % {modulo} AS BIGINT)"


def statements(reps: int, teams: int, activities: int) -> list[str]:
    opps = max(activities // 10, 1000)
    accounts = 50_000
    industries = "[" + ", ".join(f"'{i}'" for i in INDUSTRIES) + "]"
    mid = f"DATE '{START}' + INTERVAL {DAYS // 2} DAY"
    return [
        f"""INSERT INTO teams SELECT 'T' || i, CASE WHEN i = 1 THEN 'Atlas' ELSE 'Team ' || i END,
            'mgr-t' || i FROM range(1, {teams} + 1) r(i)""",
        f"""INSERT INTO reps SELECT 'R' || lpad(i::VARCHAR, 4, '0'),
            CASE WHEN i = 1 THEN 'Ada Fischer' ELSE 'Rep ' || i END, NULL,
            DATE '{START}' - INTERVAL 60 DAY + INTERVAL ({h('i', 1, 200)}) DAY, NULL
            FROM range(1, {reps} + 1) r(i)""",
        f"""INSERT INTO rep_assignments SELECT 'R' || lpad(i::VARCHAR, 4, '0'),
            'T' || ((i - 1) % {teams} + 1), ['East', 'West', 'Central'][(i % 3) + 1],
            'generalist', 'generalist', DATE '{START}' - INTERVAL 60 DAY,
            CASE WHEN {h('i', 2, 5)} = 0 AND i > 1 THEN CAST({mid} AS DATE) END
            FROM range(1, {reps} + 1) r(i)""",
        f"""INSERT INTO rep_assignments SELECT 'R' || lpad(i::VARCHAR, 4, '0'),
            'T' || ((i + 7) % {teams} + 1), ['East', 'West', 'Central'][(i % 3) + 1],
            {industries}[(i % 9) + 1], 'hunter', CAST({mid} AS DATE), NULL
            FROM range(2, {reps} + 1) r(i) WHERE {h('i', 2, 5)} = 0""",
        f"""INSERT INTO accounts SELECT 'A' || i, 'Account ' || i, {industries}[{h('i', 3, 9)} + 1],
            ['East', 'West', 'Central'][{h('i', 4, 3)} + 1], 10 + {h('i', 5, 5000)}
            FROM range(1, {accounts} + 1) r(i)""",
        f"""INSERT INTO opportunities
            SELECT 'O' || i, rep, 'A' || (1 + {h('i', 7, accounts)}), created,
                   CASE WHEN closes THEN created + cycle END,
                   CASE WHEN NOT closes THEN created + cycle END,
                   CASE WHEN NOT closes THEN 'Proposal' WHEN won THEN 'Closed Won'
                        ELSE 'Closed Lost' END,
                   closes, closes AND won, amount, round(amount * 0.35),
                   ['Core', 'Plus', 'Pro', 'Analytics', 'Services'][{h('i', 8, 5)} + 1],
                   CASE WHEN {h('i', 9, 4)} = 0 THEN 'expansion' ELSE 'new' END
            FROM (SELECT i, 'R' || lpad((1 + {h('i', 6, reps)})::VARCHAR, 4, '0') AS rep,
                         CAST(DATE '{START}' + INTERVAL ({h('i', 10, DAYS - 20)}) DAY AS DATE)
                           AS created,
                         CAST(10 + {h('i', 11, 90)} AS INTEGER) AS cycle,
                         {h('i', 12, 100)} < 28 AS won, 1000.0 + {h('i', 13, 50000)} AS amount
                  FROM range(1, {opps} + 1) r(i)) o,
                 LATERAL (SELECT created + cycle <= DATE '{START}' + INTERVAL {DAYS - 1} DAY
                          AS closes)
            ORDER BY rep, created""",
        """INSERT INTO stage_history
            SELECT opp_id, 'Qualification', created_at FROM opportunities
            UNION ALL SELECT opp_id, 'Proposal', created_at + 5 FROM opportunities
            WHERE hash(opp_id) % 10 < 6""",
        f"""INSERT INTO activities
            SELECT 'X' || i, 'R' || lpad((1 + {h('i', 14, reps)})::VARCHAR, 4, '0'),
                   'A' || (1 + {h('i', 15, accounts)}), NULL,
                   CAST(DATE '{START}' + INTERVAL ({h('i', 16, DAYS)}) DAY AS TIMESTAMP)
                     + INTERVAL ({h('i', 17, 9)} + 9) HOUR,
                   t, t = 'meeting' AND {h('i', 18, 3)} = 0
            FROM (SELECT i, CASE WHEN k < 40 THEN 'call' WHEN k < 65 THEN 'email'
                                 WHEN k < 85 THEN 'meeting' WHEN k < 95 THEN 'demo'
                                 ELSE 'proposal' END AS t
                  FROM (SELECT i, {h('i', 19, 100)} AS k FROM range(1, {activities} + 1) r(i)))
            ORDER BY 2, 5""",
        f"""INSERT INTO quotas SELECT 'Q' || r.rep_id || q, r.rep_id, NULL,
            CAST(DATE '{START}' + INTERVAL (3 * q) MONTH AS DATE),
            CAST(DATE '{START}' + INTERVAL (3 * q + 3) MONTH - INTERVAL 1 DAY AS DATE), 300000
            FROM reps r, range(0, 8) x(q)""",
        """INSERT INTO users (user_id, name, role, rep_id, team_id) VALUES
            ('exec', 'Morgan Hale', 'executive', NULL, NULL),
            ('mgr-t1', 'Atlas Manager', 'manager', NULL, 'T1'),
            ('rep-r0001', 'Ada Fischer', 'rep', 'R0001', NULL)""",
        f"""INSERT INTO initiatives VALUES ('focus', 'Win rate +25% through focus',
            'Raise win rate by 25% within a year.', '+40% new-prospect meetings per rep-week.',
            CAST({mid} AS DATE), 13, CAST({mid} + INTERVAL 364 DAY AS DATE), now())""",
        f"""INSERT INTO initiative_targets VALUES
            ('focus-1', 'focus', 'win_rate', 0.25, CAST({mid} AS DATE), now(), 'launch'),
            ('focus-2', 'focus', 'new_prospect_meetings', 0.40, CAST({mid} AS DATE), now(), 'launch')""",
        """INSERT INTO demo_truth VALUES ('none', 'T1', DATE '2024-10-01', 0, 0, 0,
            'scale data: marks the database as demo data so demo sign-in works')""",
    ]


def build(path: Path, activities: int, reps: int = 2000, teams: int = 200) -> float:
    """Write a fresh scale database; returns seconds taken."""
    started = time.perf_counter()
    tmp = path.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    store = DuckDBStore.create(tmp)
    with store.transaction():
        for statement in statements(reps, teams, activities):
            store.execute(statement)
        stages.refresh(store)  # Qualification -> Proposal, from the stage history, as an import does
        rollups.refresh(store)  # as an import does
    store.close()
    tmp.replace(path)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    seconds = build(args.db, args.activities)
    with DuckDBStore.open(args.db) as store:
        counts = {t: store.scalar(f"SELECT count(*) FROM {t}") for t in
                  ("reps", "teams", "opportunities", "activities")}
    print(f"wrote {args.db} in {seconds:.1f} s: {counts}")


if __name__ == "__main__":
    assert schema.TABLES  # the canonical tables are created by Store.create
    main()
