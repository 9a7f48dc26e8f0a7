"""The canonical data model: one place that creates every table, with keys and checks.

Effective-dated where the org changes (``rep_assignments``: ``valid_from`` inclusive, ``valid_to``
exclusive, NULL = still valid). Foreign keys are checked by :func:`integrity_problems` rather than
declared, because CRM exports arrive in any order and are upserted table by table.
"""

from __future__ import annotations

from typing import Literal, get_args

# The words a request, a scope, a metric or a user is made of: each written once, as a type for
# mypy and as the tuple of its values for checks at run time and for the CLI's choices.
Role = Literal["executive", "manager", "rep", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
Grain = Literal["day", "week", "month", "quarter", "year", "total"]
GRAINS: tuple[Grain, ...] = get_args(Grain)
PeriodGrain = Literal["week", "month", "quarter", "year"]  # the grains a page offers
PERIOD_GRAINS: tuple[PeriodGrain, ...] = get_args(PeriodGrain)
ScopeKind = Literal["all", "team", "rep"]
SCOPE_KINDS: tuple[ScopeKind, ...] = get_args(ScopeKind)
Attribution = Literal["as_of", "current"]  # a row's team: on its day, or the rep's team today
ATTRIBUTIONS: tuple[Attribution, ...] = get_args(Attribution)
Aggregation = Literal["sum", "count", "count_distinct", "median", "avg"]
AGGREGATIONS: tuple[Aggregation, ...] = get_args(Aggregation)

MOTIONS = ("hunter", "farmer", "generalist")
OPP_KINDS = ("new", "expansion")
STAGE_OUTCOMES = ("open", "won", "lost")
STAGE_ROLES = ("qualify", "propose")  # what the catalog's stage metrics need (see kpi.stages)
FORECAST_CATEGORIES = ("pipeline", "best_case", "commit", "closed", "omitted")
# The app's own tables: no import file ever feeds them (users are managed in the app; the import
# log ``imports`` is written by the import itself, the stages table derived from the data)
APP_TABLES = ("users", "login_failures", "initiatives", "initiative_teams", "initiative_targets",
              "reviews", "imports", "demo_truth", "stages", "data_versions", "stored_insights")

TABLES: dict[str, str] = {
    "teams": """
        team_id      VARCHAR PRIMARY KEY,
        name         VARCHAR NOT NULL UNIQUE,
        manager_id   VARCHAR
    """,
    "reps": """
        rep_id       VARCHAR PRIMARY KEY,
        name         VARCHAR NOT NULL,
        email        VARCHAR,
        hire_date    DATE NOT NULL,
        end_date     DATE,
        CHECK (end_date IS NULL OR end_date >= hire_date)
    """,
    "rep_assignments": f"""
        rep_id       VARCHAR NOT NULL,
        team_id      VARCHAR NOT NULL,
        region       VARCHAR NOT NULL,
        segment      VARCHAR NOT NULL DEFAULT 'generalist',
        motion       VARCHAR NOT NULL DEFAULT 'generalist'
                     CHECK (motion IN {MOTIONS}),
        valid_from   DATE NOT NULL,
        valid_to     DATE,
        PRIMARY KEY (rep_id, valid_from),
        CHECK (valid_to IS NULL OR valid_to > valid_from)
    """,
    "users": f"""
        user_id        VARCHAR PRIMARY KEY,
        name           VARCHAR NOT NULL,
        email          VARCHAR UNIQUE,
        role           VARCHAR NOT NULL CHECK (role IN {ROLES}),
        rep_id         VARCHAR,
        team_id        VARCHAR,
        password_hash  VARCHAR,
        CHECK (role <> 'rep' OR rep_id IS NOT NULL),
        CHECK (role <> 'manager' OR team_id IS NOT NULL)
    """,
    "accounts": """
        account_id   VARCHAR PRIMARY KEY,
        name         VARCHAR NOT NULL,
        industry     VARCHAR,
        region       VARCHAR,
        employees    INTEGER CHECK (employees IS NULL OR employees >= 0)
    """,
    "opportunities": f"""
        opp_id             VARCHAR PRIMARY KEY,
        rep_id             VARCHAR NOT NULL,
        account_id         VARCHAR,
        created_at         DATE NOT NULL,
        closed_at          DATE,
        expected_close_at  DATE,
        stage              VARCHAR NOT NULL,
        is_closed          BOOLEAN NOT NULL,
        is_won             BOOLEAN NOT NULL,
        amount             DOUBLE NOT NULL DEFAULT 0 CHECK (amount >= 0),
        cost               DOUBLE CHECK (cost IS NULL OR cost >= 0),
        product            VARCHAR,
        kind               VARCHAR NOT NULL DEFAULT 'new' CHECK (kind IN {OPP_KINDS}),
        CHECK (NOT is_won OR is_closed),
        CHECK (NOT is_closed OR closed_at IS NOT NULL),
        CHECK (closed_at IS NULL OR closed_at >= created_at)
    """,
    "stage_history": """
        opp_id       VARCHAR NOT NULL,
        stage        VARCHAR NOT NULL,
        entered_at   DATE NOT NULL,
        PRIMARY KEY (opp_id, stage, entered_at)
    """,
    # The pipeline as the data shows it (kpi.stages): one row per stage name, open stages first in
    # the order deals move through them, then won, then lost stages. ``ordered_by`` and ``role_by``
    # say how the position and the role were decided.
    "stages": f"""
        stage              VARCHAR PRIMARY KEY,
        position           INTEGER NOT NULL UNIQUE CHECK (position > 0),
        outcome            VARCHAR NOT NULL CHECK (outcome IN {STAGE_OUTCOMES}),
        role               VARCHAR UNIQUE CHECK (role IS NULL OR role IN {STAGE_ROLES}),
        forecast_category  VARCHAR
                           CHECK (forecast_category IS NULL OR forecast_category IN {FORECAST_CATEGORIES}),
        probability        DOUBLE CHECK (probability IS NULL OR probability BETWEEN 0 AND 1),
        ordered_by         VARCHAR NOT NULL,
        role_by            VARCHAR,
        CHECK (role IS NULL OR outcome = 'open')
    """,
    "activities": """
        activity_id   VARCHAR PRIMARY KEY,
        rep_id        VARCHAR NOT NULL,
        account_id    VARCHAR,
        opp_id        VARCHAR,
        occurred_at   TIMESTAMP NOT NULL,
        type          VARCHAR NOT NULL,
        new_prospect  BOOLEAN NOT NULL DEFAULT FALSE
    """,
    "quotas": """
        quota_id      VARCHAR PRIMARY KEY,
        rep_id        VARCHAR,
        team_id       VARCHAR,
        period_start  DATE NOT NULL,
        period_end    DATE NOT NULL,
        amount        DOUBLE NOT NULL CHECK (amount >= 0),
        CHECK ((rep_id IS NULL) <> (team_id IS NULL)),
        CHECK (period_end >= period_start)
    """,
    "initiatives": """
        initiative_id   VARCHAR PRIMARY KEY,
        name            VARCHAR NOT NULL UNIQUE,
        strategy        VARCHAR NOT NULL,
        tactics         VARCHAR NOT NULL,
        rollout_date    DATE NOT NULL,
        baseline_weeks  INTEGER NOT NULL CHECK (baseline_weeks > 0),
        target_date     DATE NOT NULL,
        created_at      TIMESTAMP NOT NULL,
        CHECK (target_date > rollout_date)
    """,
    "initiative_teams": """
        initiative_id   VARCHAR NOT NULL,
        team_id         VARCHAR NOT NULL,
        adopted_on      DATE NOT NULL,
        PRIMARY KEY (initiative_id, team_id)
    """,
    "initiative_targets": """
        target_id       VARCHAR PRIMARY KEY,
        initiative_id   VARCHAR NOT NULL,
        metric_id       VARCHAR NOT NULL,
        change_pct      DOUBLE NOT NULL,
        effective_from  DATE NOT NULL,
        recorded_at     TIMESTAMP NOT NULL,
        note            VARCHAR
    """,
    "reviews": """
        review_id       VARCHAR PRIMARY KEY,
        initiative_id   VARCHAR NOT NULL,
        review_date     DATE NOT NULL,
        learned         VARCHAR NOT NULL,
        author          VARCHAR,
        recorded_at     TIMESTAMP NOT NULL
    """,
    "login_failures": """
        login         VARCHAR NOT NULL,
        failed_at     TIMESTAMP NOT NULL
    """,
    "imports": """
        import_id     VARCHAR PRIMARY KEY,
        started_at    TIMESTAMP NOT NULL,
        finished_at   TIMESTAMP NOT NULL,
        preset        VARCHAR NOT NULL,
        files         VARCHAR NOT NULL,
        rows_read     INTEGER NOT NULL,
        rows_loaded   INTEGER NOT NULL,
        rows_skipped  INTEGER NOT NULL,
        loaded_by     VARCHAR,
        summary       VARCHAR
    """,
    # one row per change of the data (an import, `python -m kpi refresh`): what stored insights
    # were computed on
    "data_versions": """
        version       BIGINT PRIMARY KEY,
        changed_at    TIMESTAMP NOT NULL,
        why           VARCHAR NOT NULL
    """,
    # insights kept between visits and processes: one row per question (function and arguments)
    "stored_insights": """
        insight_key   VARCHAR PRIMARY KEY,
        name          VARCHAR NOT NULL,
        version       BIGINT NOT NULL,
        computed_at   TIMESTAMP NOT NULL,
        data_through  DATE,
        seconds       DOUBLE NOT NULL,
        payload       BLOB NOT NULL
    """,
    "demo_truth": """
        metric_id     VARCHAR NOT NULL,
        team_id       VARCHAR NOT NULL,
        adopted_on    DATE NOT NULL,
        effect_pct    DOUBLE NOT NULL,
        lag_weeks     INTEGER NOT NULL,
        ramp_weeks    INTEGER NOT NULL,
        note          VARCHAR,
        PRIMARY KEY (metric_id, team_id)
    """,
}
# the CRM's tables, which imports feed, in the order they are written (referenced tables first)
IMPORTED: tuple[str, ...] = tuple(t for t in TABLES if t not in APP_TABLES)

# the key an import upserts by (a CRM's own id where the table has one)
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "teams": ("team_id",), "reps": ("rep_id",), "rep_assignments": ("rep_id", "valid_from"),
    "users": ("user_id",), "accounts": ("account_id",), "opportunities": ("opp_id",),
    "stage_history": ("opp_id", "stage", "entered_at"), "activities": ("activity_id",),
    "quotas": ("quota_id",), "stages": ("stage",),
}

# (table, column) -> (referenced table, referenced column); checked, not declared (see module doc).
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("rep_assignments", "rep_id"): ("reps", "rep_id"),
    ("rep_assignments", "team_id"): ("teams", "team_id"),
    ("opportunities", "rep_id"): ("reps", "rep_id"),
    ("opportunities", "account_id"): ("accounts", "account_id"),
    ("stage_history", "opp_id"): ("opportunities", "opp_id"),
    ("activities", "rep_id"): ("reps", "rep_id"),
    ("activities", "account_id"): ("accounts", "account_id"),
    ("activities", "opp_id"): ("opportunities", "opp_id"),
    ("quotas", "rep_id"): ("reps", "rep_id"),
    ("quotas", "team_id"): ("teams", "team_id"),
    ("users", "rep_id"): ("reps", "rep_id"),
    ("users", "team_id"): ("teams", "team_id"),
    ("initiative_teams", "initiative_id"): ("initiatives", "initiative_id"),
    ("initiative_teams", "team_id"): ("teams", "team_id"),
    ("initiative_targets", "initiative_id"): ("initiatives", "initiative_id"),
    ("reviews", "initiative_id"): ("initiatives", "initiative_id"),
}


def columns(table: str) -> list[str]:
    """The columns of a table, in the order it declares them."""
    return [line.split()[0] for line in TABLES[table].strip().splitlines()
            if line.strip() and not line.strip().startswith(("CHECK", "PRIMARY", "UNIQUE"))]


def ddl() -> list[str]:
    """CREATE TABLE statements for the whole canonical model, in dependency-free order."""
    return [ddl_for(name) for name in TABLES]


def ddl_for(table: str) -> str:
    """The CREATE TABLE IF NOT EXISTS statement of one table (for tables added after a build)."""
    return f"CREATE TABLE IF NOT EXISTS {table} ({TABLES[table].rstrip()}\n)"


def overlap_check_sql() -> str:
    """Reps whose assignments overlap in time: as-of attribution needs exactly one team per day."""
    return """
        SELECT a.rep_id, a.valid_from, b.valid_from AS other_valid_from
        FROM rep_assignments a JOIN rep_assignments b
          ON a.rep_id = b.rep_id AND a.valid_from < b.valid_from
         AND (a.valid_to IS NULL OR a.valid_to > b.valid_from)
    """


def orphan_check_sql(table: str, column: str) -> str:
    """Rows of ``table`` whose ``column`` points at nothing (identifiers come from REFERENCES)."""
    ref_table, ref_column = REFERENCES[(table, column)]
    return (
        f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {ref_table} r WHERE r.{ref_column} = t.{column})"
    )
