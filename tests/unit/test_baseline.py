"""Baselines, change, targets that are re-calibrated (history kept) and pacing, by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from kpi.baseline import attainment, progress, progress_series, share_of_path
from kpi.errors import InvalidRequest
from kpi.initiatives import add_review, create_initiative, get_initiative, recalibrate
from tests.conftest import Tiny, d


@pytest.fixture
def rollout(tiny: Tiny) -> Tiny:
    """One rep, 2 meetings a week for 4 weeks before rollout, 3 a week after; rollout 2025-03-03."""
    tiny.team("T", "Alpha")
    tiny.rep("r", "T", hired="2024-01-01")
    for week in range(4):  # Mondays 2025-02-03 .. 2025-02-24
        tiny.activity("r", str(d("2025-02-03") + dt.timedelta(weeks=week)), n=2)
    for week in range(4):  # Mondays 2025-03-03 .. 2025-03-24
        tiny.activity("r", str(d("2025-03-03") + dt.timedelta(weeks=week)), n=3)
    create_initiative(tiny.store, name="More meetings", strategy="win more", tactics="meet more",
                      rollout_date=d("2025-03-03"), baseline_weeks=4, target_date=d("2025-04-28"),
                      teams={"T": d("2025-03-03")}, targets={"meetings": 0.25})
    return tiny


def test_share_of_path_and_attainment() -> None:
    assert share_of_path(d("2025-01-01"), d("2025-01-11"), d("2025-01-06")) == 0.5
    assert share_of_path(d("2025-01-01"), d("2025-01-11"), d("2024-12-01")) == 0.0
    assert share_of_path(d("2025-01-01"), d("2025-01-11"), d("2026-01-01")) == 1.0
    assert attainment(2.0, 2.25, 2.5) == 0.5
    assert attainment(60.0, 57.0, 54.0) == 0.5  # a "down is good" target
    assert attainment(2.0, 2.5, 2.0) is None


def test_progress_against_baseline_target_and_pace(rollout: Tiny) -> None:
    initiative = get_initiative(rollout.store, "more meetings")
    p = progress(rollout.engine, initiative, "meetings", as_of=d("2025-03-30"))
    assert p.baseline == pytest.approx(2.0)     # 8 meetings / 4 rep-weeks
    assert p.current == pytest.approx(3.0)      # 12 / 4 over the same length after rollout
    assert p.change_pct == pytest.approx(0.5)
    assert p.target_value == pytest.approx(2.5)
    assert p.attainment == pytest.approx(2.0)   # +1.0 achieved of +0.5 targeted
    # 27 of 56 days along the path from rollout to target date: 2 * (1 + 0.25 * 27/56)
    assert p.expected_value == pytest.approx(2 * (1 + 0.25 * 27 / 56))
    assert p.on_pace is True


def test_recalibrated_target_applies_from_its_date_and_keeps_history(rollout: Tiny) -> None:
    initiative = get_initiative(rollout.store, "more-meetings")
    recalibrate(rollout.store, initiative.initiative_id, "meetings", 0.75, d("2025-03-17"),
                note="quarterly review: stretch")
    add_review(rollout.store, initiative.initiative_id, d("2025-03-17"), "Meetings up fast.")
    initiative = get_initiative(rollout.store, "more-meetings")
    assert [t.change_pct for t in initiative.target_history("meetings")] == [0.25, 0.75]
    assert initiative.target_on("meetings", d("2025-03-16")).change_pct == 0.25
    assert initiative.target_on("meetings", d("2025-03-17")).change_pct == 0.75
    assert initiative.target_on("meetings", d("2025-03-02")) is None
    assert initiative.reviews[0].learned == "Meetings up fast."
    p = progress(rollout.engine, initiative, "meetings", as_of=d("2025-03-30"))
    assert p.target_value == pytest.approx(3.5)  # 2.0 * 1.75
    assert p.attainment == pytest.approx(1.0 / 1.5)
    assert p.expected_value == pytest.approx(2 * (1 + 0.75 * 27 / 56))  # 2.72: 3.0 is ahead
    assert p.on_pace is True
    weekly = progress_series(rollout.engine, initiative, "meetings", "week", as_of=d("2025-03-30"))
    assert weekly["value"].tolist() == pytest.approx([2, 2, 2, 2, 3, 3, 3, 3])
    targets = weekly["target"].tolist()
    assert weekly["target"][:4].isna().all()  # no target before rollout
    assert targets[4:] == pytest.approx([2.5, 2.5, 3.5, 3.5])  # a step at the re-calibration


def test_initiative_input_is_checked(tiny: Tiny) -> None:
    tiny.team("T")
    with pytest.raises(InvalidRequest, match="target date must come after"):
        create_initiative(tiny.store, name="x", strategy="s", tactics="t", rollout_date=d("2025-03-03"),
                          baseline_weeks=4, target_date=d("2025-03-01"))
    with pytest.raises(InvalidRequest, match="as a fraction"):
        create_initiative(tiny.store, name="y", strategy="s", tactics="t", rollout_date=d("2025-03-03"),
                          baseline_weeks=4, target_date=d("2025-06-01"), targets={"win_rate": 25})
    assert tiny.store.scalar("SELECT count(*) FROM initiatives") == 0  # all or nothing


def test_initiative_names_are_unique(rollout: Tiny) -> None:
    with pytest.raises(InvalidRequest, match="already exists"):
        create_initiative(rollout.store, name="More Meetings", strategy="s", tactics="t",
                          rollout_date=d("2025-03-03"), baseline_weeks=4, target_date=d("2025-06-01"))
    assert rollout.store.scalar("SELECT count(*) FROM initiatives") == 1
