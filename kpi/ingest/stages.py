"""What an import says about stages, for :mod:`kpi.stages` to weigh with the data.

A preset's stage table (``stages:`` in pipeline order, with open / won / lost, and ``stage_roles:``
naming the qualifying or proposal stage) states what it lists; the deals' own Probability and
ForecastCategoryName columns, when the export has them, tell each stage's probability (which
orders stages when there is no stage history) and forecast category.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kpi.ingest.presets import Preset
from kpi.stages import StageList, describe, frame_evidence, stage_table, stored_lists
from kpi.stages import read as read_stages
from kpi.store import Store

TOUCHING = ("opportunities", "stage_history")  # an import of these re-derives the stages table


def stage_lists(preset: Preset, frames: Mapping[str, pd.DataFrame]) -> list[StageList]:
    """The preset's stage tables, then what the deals say about their stages."""
    lists = [_preset_list(f.stages, f.stage_roles) for f in preset.files
             if f.stages or f.stage_roles]
    deals = frames.get("opportunities")
    if deals is not None and {"probability", "forecast_category"} & set(deals.columns):
        lists.append(_deal_list(deals))
    return lists


def stage_notes(preset: Preset, frames: Mapping[str, pd.DataFrame], store: Store | None
                ) -> list[str]:
    """The pipeline as this import reads it, for the report (when it is written, the table is
    derived again from all the data in the database)."""
    if not set(TOUCHING) & set(frames):
        return []
    deals, history = frames.get("opportunities"), frames.get("stage_history")
    if deals is not None:
        deals = deals.dropna(subset=["stage"])
    if history is not None:
        history = history.dropna(subset=["opp_id", "stage", "entered_at"])
    stored = stored_lists(read_stages(store)) if store is not None else []
    table = stage_table(frame_evidence(deals, history), [*stage_lists(preset, frames), *stored])
    return [f"stages as read: {describe(table)}"]


def _preset_list(stages: Mapping[str, str], roles: Mapping[str, str]) -> StageList:
    names = list(stages) + [s for s in roles.values() if s not in stages]
    role_of = {str(stage).lower(): role for role, stage in roles.items()}
    frame = pd.DataFrame({"stage": names, "outcome": [stages.get(s) for s in names],
                          "role": [role_of.get(str(s).lower()) for s in names]})
    return StageList(frame, "preset")


def _deal_list(deals: pd.DataFrame) -> StageList:
    """Per stage: the median probability of its deals and their most common forecast category."""
    frame = pd.DataFrame({"stage": deals["stage"]})
    if "probability" in deals:
        frame["probability"] = pd.to_numeric(deals["probability"], errors="coerce")
    if "forecast_category" in deals:
        frame["forecast_category"] = deals["forecast_category"]
    frame = frame.dropna(subset=["stage"])
    grouped = frame.groupby("stage", sort=True)
    out = pd.DataFrame({"stage": list(grouped.groups)})
    if "probability" in frame:
        out["probability"] = out["stage"].map(grouped["probability"].median())
    if "forecast_category" in frame:
        out["forecast_category"] = out["stage"].map(grouped["forecast_category"].agg(_mode))
    return StageList(out, "data", ordered=False)


def _mode(values: pd.Series) -> object:
    counts = values.dropna().value_counts()
    return counts.index[0] if len(counts) else None
