"""The catalog loads, and each validation rule catches what it is for with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi.catalog import load_catalog
from kpi.errors import CatalogError, UnknownMetric

GOOD_OUTPUT = """
  - id: revenue2
    label: Revenue again
    kind: output
    unit: currency
    direction: up
    roles: [executive]
    definition: Won amount.
    formula: sum(amount) of won deals
    measure: {source: opps_closed, agg: sum, expr: amount, filter: is_won}
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "extra.yaml"
    path.write_text("metrics:\n" + body, encoding="utf-8")
    return path


def problems(tmp_path: Path, body: str) -> str:
    with pytest.raises(CatalogError) as info:
        load_catalog([write(tmp_path, body)])
    return str(info.value)


def test_shipped_catalog_has_every_required_metric() -> None:
    catalog = load_catalog()
    outputs = {"revenue", "win_rate", "win_rate_value", "avg_deal_size", "median_deal_size",
               "gross_margin", "sales_cycle_days", "quota_attainment", "new_logos"}
    levers = {"activities", "calls", "meetings", "new_prospect_meetings", "demos",
              "proposals_sent", "opps_created", "pipeline_created", "stage_conversion",
              "pipeline_coverage"}
    assert {m.id for m in catalog.of_kind("output")} >= outputs
    assert {m.id for m in catalog.of_kind("lever")} >= levers
    assert catalog.get("sales_cycle_days").direction == "down"
    assert catalog.get("demos").per_rep_week and catalog.get("demos").is_ratio
    assert "rep" in catalog.get("new_prospect_meetings").roles


def test_unknown_metric_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownMetric, match="valid metrics: revenue, quota_attainment, win_rate"):
        load_catalog().get("winrate")


def test_a_user_adds_a_metric_by_editing_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KPI_EXTRA_METRICS", str(write(tmp_path, GOOD_OUTPUT)))
    assert load_catalog().get("revenue2").label == "Revenue again"


def test_a_catalog_is_read_once_until_its_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_OUTPUT)
    first = load_catalog([path])
    assert load_catalog([path]) is first  # no YAML parsed again
    write(tmp_path, GOOD_OUTPUT.replace("Revenue again", "Revenue, edited"))
    assert load_catalog([path]).get("revenue2").label == "Revenue, edited"
    path.unlink()
    with pytest.raises(CatalogError, match="cannot read metric catalog"):
        load_catalog([path])


def test_duplicate_ids(tmp_path: Path) -> None:
    assert "duplicate metric id 'revenue2' (2 times)" in problems(tmp_path, GOOD_OUTPUT * 2)


def test_unknown_column(tmp_path: Path) -> None:
    body = GOOD_OUTPUT.replace("expr: amount", "expr: amount_usd")
    assert "unknown column 'amount_usd'; this source has: account_id, amount" in problems(tmp_path, body)


def test_unknown_source(tmp_path: Path) -> None:
    body = GOOD_OUTPUT.replace("source: opps_closed", "source: deals")
    assert "unknown source 'deals'" in problems(tmp_path, body)


def test_ratio_without_denominator(tmp_path: Path) -> None:
    body = GOOD_OUTPUT.replace("measure:", "numerator:")
    assert "ratio without denominator" in problems(tmp_path, body)


def test_lever_without_a_related_output(tmp_path: Path) -> None:
    body = GOOD_OUTPUT.replace("kind: output", "kind: lever")
    assert "a lever needs `leads: [...]`" in problems(tmp_path, body)


def test_lever_leading_an_unknown_output(tmp_path: Path) -> None:
    body = GOOD_OUTPUT.replace("kind: output", "kind: lever") + "    leads: [happiness]\n"
    assert "leads 'happiness', which is not an output metric" in problems(tmp_path, body)


def test_fragments_cannot_smuggle_sql(tmp_path: Path) -> None:
    body = GOOD_OUTPUT.replace("filter: is_won", "filter: \"is_won OR (SELECT count(*) FROM users) > 0\"")
    assert "must not contain a statement or subquery" in problems(tmp_path, body)
    body = GOOD_OUTPUT.replace("filter: is_won", "filter: \"is_won; DROP TABLE reps\"")
    assert "without ';'" in problems(tmp_path, body)


def test_enums_and_descriptions(tmp_path: Path) -> None:
    body = (GOOD_OUTPUT.replace("unit: currency", "unit: dollars")
            .replace("definition: Won amount.", "definition: ''"))
    found = problems(tmp_path, body)
    assert "unit 'dollars' is not one of" in found
    assert "needs a one-sentence `definition`" in found


def test_ratios_must_be_additive(tmp_path: Path) -> None:
    body = GOOD_OUTPUT.replace(
        "measure: {source: opps_closed, agg: sum, expr: amount, filter: is_won}",
        "numerator: {source: opps_closed, agg: median, expr: amount}\n"
        "    denominator: {source: opps_closed, agg: count}")
    assert "sum(num)/sum(den)" in problems(tmp_path, body)


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("metrics: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="broken.yaml"):
        load_catalog([path])


def test_an_unknown_key_is_refused_with_the_valid_ones(tmp_path: Path) -> None:
    body = GOOD_OUTPUT + "    per_rep_weeks: true\n"
    found = problems(tmp_path, body)
    assert f"{tmp_path / 'extra.yaml'}: metric 'revenue2': unknown keys ['per_rep_weeks']" in found
    assert "the keys are id, label, kind, unit, direction, roles, shown_in," in found


@pytest.mark.parametrize("key", ["roles", "leads", "shown_in"])
def test_lists_must_be_lists(tmp_path: Path, key: str) -> None:
    body = GOOD_OUTPUT.replace("    roles: [executive]\n", "") + f"    {key}: executive\n"
    assert f"metric 'revenue2': `{key}` must be a list like [a, b]" in problems(tmp_path, body)


def test_shown_in_names_a_place_that_fits_the_kind(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD_OUTPUT + "    shown_in: [levers, dashboard]\n")
    assert "revenue2: only levers are shown in 'levers'" in found
    assert ("revenue2: shown_in 'dashboard' is not one of outputs, consequences, levers, "
            "lead_lag") in found


def test_where_a_metric_shows_by_default_and_for_whom(tmp_path: Path) -> None:
    lever = (GOOD_OUTPUT.replace("revenue2", "calls2").replace("kind: output", "kind: lever")
             .replace("roles: [executive]", "roles: [manager, rep]") + "    leads: [revenue2]\n")
    silent = GOOD_OUTPUT.replace("revenue2", "revenue3") + "    shown_in: []\n"
    catalog = load_catalog([write(tmp_path, GOOD_OUTPUT + lever + silent)])
    assert catalog.get("revenue2").shown_in == ("outputs",)
    assert catalog.get("calls2").shown_in == ("levers", "lead_lag")
    assert catalog.shown("outputs") == ("revenue2",)
    assert catalog.shown("lead_lag") == ("calls2",)
    assert catalog.shown("levers", "manager") == ("calls2",)
    assert catalog.shown("levers", "executive") == ()
    assert catalog.shown("levers", "admin") == ("calls2",)
    assert catalog.shown("outputs", "rep") == ()
    with pytest.raises(CatalogError, match="unknown place 'home'"):
        catalog.shown("home")


def test_the_quick_yaml_parser_reads_the_shipped_files_as_the_python_one_does() -> None:
    import yaml

    from kpi.catalog import DEFAULT_PATH, SAFE_LOADER
    from kpi.ingest.presets import SHIPPED

    files = [DEFAULT_PATH, *sorted(SHIPPED.glob("*.yaml"))]
    assert len(files) >= 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=SAFE_LOADER) == yaml.safe_load(text), path
