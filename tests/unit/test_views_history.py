"""An initiative's target history and reviews as the pages list them, and which initiatives a
viewer is offered: by hand on a two-team company."""

from __future__ import annotations

from kpi.engine import Scope
from kpi.initiatives import add_review, create_initiative, get_initiative, recalibrate
from kpi.views import (
    covers,
    default_initiative,
    initiative_choice,
    initiatives_for,
    review_history,
    target_history,
)
from tests.conftest import Tiny, d


def test_target_history_oldest_first_with_labels(tiny: Tiny) -> None:
    """Launched on 3 March with demos +50% and win rate +10%; demos re-set to +30% from 1 April
    (the launch version stays); reviews on 15 and 31 March."""
    tiny.team("T")
    create_initiative(tiny.store, name="Demo more", strategy="s", tactics="t",
                      rollout_date=d("2025-03-03"), baseline_weeks=4, target_date=d("2025-06-30"),
                      teams={"T": d("2025-03-03")}, targets={"demos": 0.5, "win_rate": 0.1})
    recalibrate(tiny.store, "demo-more", "demos", 0.3, d("2025-04-01"), note="too ambitious")
    add_review(tiny.store, "demo-more", d("2025-03-15"), "demos up, wins not yet", author="Ann")
    add_review(tiny.store, "demo-more", d("2025-03-31"), "wins follow", author="Bo")
    initiative = get_initiative(tiny.store, "demo-more")
    history = target_history(tiny.engine, initiative)
    assert list(history.columns) == ["metric", "target_change", "effective_from", "note"]
    assert [tuple(r) for r in history.itertuples(index=False)] == [
        ("Demos", 0.5, d("2025-03-03"), "launch target"),
        ("Demos", 0.3, d("2025-04-01"), "too ambitious"),
        ("Win rate", 0.1, d("2025-03-03"), "launch target")]
    reviews = review_history(tiny.engine, initiative)
    assert list(reviews.columns) == ["review_date", "learned", "author"]
    assert sorted(tuple(r) for r in reviews.itertuples(index=False)) == [
        (d("2025-03-15"), "demos up, wins not yet", "Ann"), (d("2025-03-31"), "wins follow", "Bo")]


def test_who_an_initiative_covers(tiny: Tiny) -> None:
    """Team initiative 'Team T' (T only, rollout 3 March, 2 baseline weeks from 17 February) and a
    company-wide one 'Everyone' (rolled out later, 1 April). Rep A is in T; rep B was in T until
    10 February (before T's baseline) and is in U since; rep C in U."""
    tiny.team("T")
    tiny.team("U")
    tiny.rep("A", "T")
    tiny.rep("B", "T")
    tiny.move("B", "U", "2025-02-10")
    tiny.rep("C", "U")
    team = create_initiative(tiny.store, name="Team T", strategy="s", tactics="t",
                             rollout_date=d("2025-03-03"), baseline_weeks=2,
                             target_date=d("2025-06-30"), teams={"T": d("2025-03-03")})
    everyone = create_initiative(tiny.store, name="Everyone", strategy="s", tactics="t",
                                 rollout_date=d("2025-04-01"), baseline_weeks=2,
                                 target_date=d("2025-06-30"))
    engine = tiny.engine
    assert [covers(engine, team, s) for s in (
        Scope.teams("T"), Scope.teams("U"), Scope.teams("T", "U"), Scope.reps("A"),
        Scope.reps("B"), Scope.reps("C"), Scope.everyone())] == [
        True, False, True, True, False, False, False]
    assert all(covers(engine, everyone, s) for s in (Scope.teams("U"), Scope.reps("C"),
                                                    Scope.everyone()))
    # newest rollout first among those that cover the viewer; an executive also sees the rest
    assert [i.name for i in initiatives_for(engine, Scope.reps("A"))] == ["Everyone", "Team T"]
    assert [i.name for i in initiatives_for(engine, Scope.reps("C"))] == ["Everyone"]
    assert [i.name for i in initiatives_for(engine, Scope.everyone())] == ["Everyone", "Team T"]
    assert default_initiative(engine, Scope.teams("U"), [team]) is None
    assert default_initiative(engine, Scope.teams("T"), [everyone, team]) == everyone
    assert default_initiative(engine, Scope.teams("U"), [team, everyone]) == everyone
    # what every page's picker offers, and opens with
    assert initiative_choice(engine, Scope.reps("A")) == ([everyone, team], everyone)
    assert initiative_choice(engine, Scope.reps("B")) == ([everyone], everyone)


def test_the_picker_opens_on_a_team_initiative_only_for_those_it_covers(tiny: Tiny) -> None:
    """Only a team initiative (T): T's rep opens on it; an executive is offered it but opens on
    none (it is not about the whole company); U's rep is offered nothing."""
    tiny.team("T")
    tiny.team("U")
    tiny.rep("A", "T")
    tiny.rep("C", "U")
    team = create_initiative(tiny.store, name="Team T", strategy="s", tactics="t",
                             rollout_date=d("2025-03-03"), baseline_weeks=2,
                             target_date=d("2025-06-30"), teams={"T": d("2025-03-03")})
    assert initiative_choice(tiny.engine, Scope.reps("A")) == ([team], team)
    assert initiative_choice(tiny.engine, Scope.everyone()) == ([team], None)
    assert initiative_choice(tiny.engine, Scope.reps("C")) == ([], None)
