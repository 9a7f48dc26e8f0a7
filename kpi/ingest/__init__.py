"""CRM exports -> canonical tables: read, map with a preset, validate, then load all or nothing.

``plan_import`` reads and checks everything without writing; ``load`` writes a plan in one
transaction (upserting by the CRM's ids, so re-importing the same export changes nothing) and
records the import. See :mod:`kpi.ingest.presets` for the shipped presets.
"""

from kpi.errors import ImportRefused
from kpi.ingest.load import ImportResult, freshness, load, recent_imports
from kpi.ingest.plan import Plan, Source, plan_import
from kpi.ingest.presets import Preset, list_presets, load_preset, save_preset
from kpi.ingest.report import Problem, Report

__all__ = ["ImportRefused", "ImportResult", "Plan", "Preset", "Problem", "Report", "Source",
           "freshness", "list_presets", "load", "load_preset", "plan_import", "recent_imports",
           "save_preset"]
