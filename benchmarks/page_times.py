"""How long each role's pages take to become interactive in headless Chromium.

Starts the app on a copy of a database, opens every page of each role twice (first visit: its
queries for that scope run; warm: second visit, served from the per-scope cache), then changes
the grain on the pages that have one. Times run from the click until the script has finished and
the first chart is drawn. Prints a markdown table of seconds.

    python benchmarks/page_times.py --db data/demo.duckdb
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer  # noqa: E402

ROLES = {
    "Morgan Hale": ["Outputs", "Segments", "Insights", "Team levers", "Coaching",
                    "Strategy rollouts", "Explore", "Data"],
    "Atlas Manager": ["Team levers", "Coaching", "Insights", "Strategy rollouts", "Explore"],
    "Ada Fischer": ["My levers", "Insights", "Strategy rollouts", "Explore"],
}


def wait_ready(page: Page) -> None:
    page.wait_for_timeout(100)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=120_000)
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=120_000)
    if page.locator(".js-plotly-plot").count():
        page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)


def timed(page: Page, action) -> float:  # noqa: ANN001 - a callable
    start = time.perf_counter()
    action()
    wait_ready(page)
    return time.perf_counter() - start


def sign_in_as(page: Page, user: str) -> None:
    """Demo sign-in (the database must be a demo company), signing out whoever is in first."""
    sign_out = page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out")
    if sign_out.count():
        sign_out.click()
        wait_ready(page)
    page.get_by_role("combobox", name="Demo user").click()
    page.get_by_role("option", name=user).first.click()
    wait_ready(page)
    page.get_by_role("button", name="Enter the demo as this user").click()
    wait_ready(page)


def measure(page: Page, user: str, titles: list[str]) -> list[tuple[str, str, float, float, float]]:
    sign_in_as(page, user)
    rows = []
    for title in titles:
        link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title)
        cold = timed(page, link.click)
        other = titles[0] if title != titles[0] else titles[-1]
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=other).click()
        wait_ready(page)
        warm = timed(page, link.click)
        grain = page.get_by_role("radiogroup", name="Grain")
        change = float("nan")
        if grain.count():
            change = timed(page, grain.get_by_role("radio", name="Week").click)
            grain.get_by_role("radio", name="Month").click()
            wait_ready(page)
        rows.append((user, title, cold, warm, change))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="data/demo.duckdb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        shutil.copy(args.db, db)
        server = AppServer(db, Path(tmp))
        server.start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(server.url + "/")
                wait_ready(page)
                first = timed(page, lambda: sign_in_as(page, "Morgan Hale"))
                rows = [r for user, titles in ROLES.items() for r in measure(page, user, titles)]
                browser.close()
        finally:
            server.stop()
    print(f"Page times in headless Chromium, {os.cpu_count()} cores, database {args.db}\n")
    print(f"Sign-in to the executive's Outputs, empty cache: {first:.2f} s\n")
    print("| user | page | first visit (s) | warm visit (s) | grain change (s) |")
    print("|---|---|---:|---:|---:|")
    for user, title, cold, warm, change in rows:
        print(f"| {user} | {title} | {cold:.2f} | {warm:.2f} | {change:.2f} |")
    warm_all = [r[3] for r in rows]
    print(f"\nwarm visits: median {statistics.median(warm_all):.2f} s, max {max(warm_all):.2f} s")


if __name__ == "__main__":
    main()
