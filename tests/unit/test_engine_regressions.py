"""Engine answers the differential suite (tests/differential) found wrong, each computed by hand."""

from __future__ import annotations

from kpi.engine import MetricRequest
from tests.conftest import Tiny, d


def test_new_logos_read_zero_in_a_period_where_nothing_closed(tiny: Tiny) -> None:
    tiny.team("T")
    tiny.rep("r", "T")
    tiny.account("acme")
    tiny.deal("r", "2025-01-02", "2025-01-15", won=True, amount=100, account="acme")  # January: 1
    # February: nothing closed at all
    tiny.deal("r", "2025-01-02", "2025-03-10", won=False, amount=100, account="acme")  # March: 0
    frame = tiny.engine.run(MetricRequest.make("new_logos", grain="month", date_from=d("2025-01-01"),
                                               date_to=d("2025-03-31")))
    # a count of accounts is 0 when none signed, whether or not other deals closed that month
    assert frame["value"].tolist() == [1, 0, 0]
    by_team = tiny.engine.run(MetricRequest.make("new_logos", grain="month", by=["team"],
                                                 date_from=d("2025-01-01"), date_to=d("2025-03-31")))
    assert by_team["value"].tolist() == [1, 0, 0]
