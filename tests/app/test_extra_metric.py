"""Adding a metric is editing YAML: the README's example (a lever for managers and reps that
leads win rate) shows on Team levers, My levers and in the lead-lag tests, and nowhere an
executive looks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from tests.app.conftest import _opener, open_tables

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    """The YAML block of the README's "Adding a metric" section, as a user copies it."""
    section = README.read_text(encoding="utf-8").split("## Adding a metric", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


@pytest.fixture
def emails(writable_app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app on its own database (so its own engine and catalog) with the README's metric."""
    path = tmp_path / "emails.yaml"
    path.write_text(readme_example(), encoding="utf-8")
    monkeypatch.setenv("KPI_EXTRA_METRICS", str(path))


def lever_options(at: AppTest) -> list[str]:
    return list(at.selectbox(key="w:lever").options)


def test_the_readme_example_is_a_manager_and_rep_lever_that_leads_win_rate() -> None:
    (metric,) = yaml.safe_load(readme_example())["metrics"]
    assert (metric["kind"], metric["roles"], metric["leads"]) == ("lever", ["manager", "rep"],
                                                                  ["win_rate"])
    assert "shown_in" not in metric, "the example relies on where a lever shows by default"


@pytest.mark.usefixtures("emails")
def test_it_shows_on_team_levers_and_my_levers() -> None:
    team = _opener("mgr-t1", "team")
    assert lever_options(team)[-1] == "Emails"
    team.selectbox(key="w:lever").select("emails").run()
    assert not team.exception and not team.error
    open_tables(team)
    assert team.dataframe[0].value["rep"].nunique() > 0, "the heatmap of Emails by rep and week"

    me = _opener("rep-r002", "me")
    assert lever_options(me)[-1] == "Emails"
    assert "for emails this week" in " ".join(m.value for m in me.markdown), "its pace row"
    me.selectbox(key="w:lever").select("emails").run()
    assert not me.exception and not me.error


@pytest.mark.usefixtures("emails")
def test_it_is_tested_for_leading_win_rate_for_managers_and_reps_only() -> None:
    for user in ("mgr-t1", "rep-r002"):
        at = _opener(user, "insights")
        table = next(d.value for d in at.dataframe if "vs goal" in d.value)
        assert "Emails" in table["lever"].tolist(), user
        assert "New-prospect meetings" in table["lever"].tolist(), user

    executive = _opener("exec", "insights")
    leads = next(d.value for d in executive.dataframe if "verdict" in d.value and "p" in d.value)
    assert "New-prospect meetings" in leads["lever"].tolist()
    assert "Emails" not in leads["lever"].tolist()


@pytest.mark.usefixtures("emails")
def test_an_executive_does_not_see_it() -> None:
    outputs = _opener("exec", "outputs")
    assert "Emails" not in [m.label for m in outputs.metric]
    team = _opener("exec", "team")
    assert "New-prospect meetings" in lever_options(team)
    assert "Emails" not in lever_options(team)


MANAGERS_ONLY = """metrics:
  - id: team_emails
    label: Team emails
    kind: lever
    unit: count
    direction: up
    roles: [manager]
    definition: Emails the team sent.
    formula: count of emails
    measure: {source: activities, agg: count, filter: "type = 'email'"}
    leads: [win_rate]
"""


def test_a_lever_for_managers_only_is_not_a_reps(writable_app: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "managers.yaml"
    path.write_text(MANAGERS_ONLY, encoding="utf-8")
    monkeypatch.setenv("KPI_EXTRA_METRICS", str(path))
    manager = _opener("mgr-t1", "insights")
    pushed = next(d.value for d in manager.dataframe if "vs goal" in d.value)["lever"].tolist()
    assert "Team emails" in pushed
    rep = _opener("rep-r002", "insights")
    pushed = next(d.value for d in rep.dataframe if "vs goal" in d.value)["lever"].tolist()
    assert "New-prospect meetings" in pushed
    assert "Team emails" not in pushed
    assert "Team emails" not in lever_options(_opener("rep-r002", "me"))
