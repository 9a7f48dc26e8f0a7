"""What differs between databases, checked without a server: the SQL written for Spark, the
types a driver sends as text, and a Java error said in one line (tests/db runs them for real)."""

from __future__ import annotations

import datetime as dt

import sqlglot

from kpi.engine import MetricRequest
from kpi.store import DIALECTS, _converters, _first_line, _translate
from tests.conftest import Tiny

SPARK = DIALECTS["hive"]
DAYS = {"date_from": dt.date(2024, 1, 1), "date_to": dt.date(2024, 2, 1)}

# what Spark's Thrift server sent for `SELECT nope FROM reps` (shortened after the first frame)
SPARK_ERROR = (
    'TExecuteStatementResp(status=TStatus(statusCode=3, infoMessages=["*org.apache.hive.service.'
    'cli.HiveSQLException:Error running query: [UNRESOLVED_COLUMN.WITH_SUGGESTION] org.apache.'
    'spark.sql.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or '
    'function parameter with name `nope` cannot be resolved. Did you mean one of the following? '
    '[`name`, `email`]. SQLSTATE: 42703; line 1 pos 7;\\n\'Project [\'nope]\\n:36:35", '
    "'org.apache.spark.sql.hive.thriftserver.HiveThriftServerErrors$:runningQueryError:"
    "HiveThriftServerErrors.scala:43'])")


def test_a_calendar_is_a_subquery_that_explodes_a_sequence_in_spark(tiny: Tiny) -> None:
    request = MetricRequest.make("activities", grain="week", **DAYS)
    sql = _translate(tiny.engine.compile(request).sql, SPARK)
    assert "_u(" not in sql and "GENERATE_SERIES" not in sql.upper()
    assert sql.count("EXPLODE(SEQUENCE(") == 2  # the period spine and the rep-days calendar
    assert "(SELECT EXPLODE(SEQUENCE(CAST(:date_from AS TIMESTAMP_NTZ), CAST(:date_to AS " \
           "TIMESTAMP_NTZ), INTERVAL '1' DAY)) AS day) AS cal" in sql
    sqlglot.parse_one(sql.replace(":date_from", "'2024-01-01'").replace(":date_to", "'2024-02-01'"),
                      read="spark")


def test_other_databases_keep_their_generate_series(tiny: Tiny) -> None:
    request = MetricRequest.make("activities", grain="week", **DAYS)
    sql = _translate(tiny.engine.compile(request).sql, DIALECTS["postgresql"])
    assert sql.upper().count("GENERATE_SERIES(") == 2 and "EXPLODE" not in sql


def test_a_per_rep_week_value_is_divided_as_a_double(tiny: Tiny) -> None:
    sql = tiny.engine.compile(MetricRequest.make("activities", **DAYS)).sql
    assert "CAST(count(*) AS DOUBLE) / 7.0" in sql


def test_the_current_team_is_a_join_to_each_reps_latest_assignment(tiny: Tiny) -> None:
    sql = tiny.engine.compile(MetricRequest.make("revenue", by=["team"], attribution="current", **DAYS)).sql
    assert "max(valid_from) AS latest FROM rep_assignments" in sql
    assert "WHERE x.rep_id = f.rep_id" not in sql  # no correlated subquery in ON


def test_dates_a_driver_sends_as_text_are_dates_again() -> None:
    date, stamp, number, oid = _converters([("d", "DATE_TYPE"), ("t", "TIMESTAMP_TYPE"),
                                            ("n", "DOUBLE_TYPE"), ("o", 1082)])
    assert date("2024-10-01") == dt.date(2024, 10, 1)
    assert date(dt.date(2024, 10, 1)) == dt.date(2024, 10, 1) and date(None) is None
    assert stamp("2024-10-01 09:30:00") == dt.datetime(2024, 10, 1, 9, 30)
    assert number("2024-10-01") == "2024-10-01" and oid("2024-10-01") == "2024-10-01"


def test_a_java_stack_is_said_as_its_error_class_and_message() -> None:
    assert _first_line(RuntimeError(SPARK_ERROR)) == (
        "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name "
        "`nope` cannot be resolved. Did you mean one of the following? [`name`, `email`].")
    assert _first_line(RuntimeError("relation \"x\" does not exist\nLINE 1: ...")) == \
        'relation "x" does not exist'
    assert _first_line(RuntimeError("")) == "RuntimeError"
