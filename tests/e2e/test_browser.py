"""Each role in a real browser: every page renders its charts; grain, range and initiative edits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import REP_PASSWORD, AppServer, screenshot_dir
from tests.e2e.streamlit_page import idle, painted, pick, view_as

ROLE_PAGES = {
    "Morgan Hale": ["Outputs", "Segments", "Insights", "Team levers", "Coaching", "Strategy rollouts",
                    "Explore", "Data"],
    "Atlas Manager": ["Team levers", "Coaching", "Insights", "Strategy rollouts", "Explore"],
    "Ada Fischer": ["My levers", "Insights", "Strategy rollouts", "Explore"],
}
SHOTS = {("Morgan Hale", "Outputs"): "outputs", ("Morgan Hale", "Segments"): "segments",
         ("Atlas Manager", "Team levers"): "team-levers", ("Atlas Manager", "Coaching"): "coaching",
         ("Ada Fischer", "My levers"): "my-levers",
         ("Morgan Hale", "Strategy rollouts"): "strategy-rollouts", ("Morgan Hale", "Data"): None,
         ("Morgan Hale", "Insights"): "insights", ("Atlas Manager", "Insights"): "insights-team",
         ("Ada Fischer", "Insights"): "insights-rep"}


def first_admin(page: Page, server: AppServer) -> None:
    """Create the first admin on an empty database's first-run screen (and be signed in)."""
    page.goto(server.url + "/")
    idle(page)
    form = page.get_by_test_id("stForm")
    form.get_by_label("Name").fill("Sam Ops")
    form.get_by_label("Password (10 characters or more)").fill("a long passphrase")
    form.get_by_label("Password again").fill("a long passphrase")
    form.get_by_role("button", name="Create and sign in").click()
    idle(page)


def type_date(scope: Page | Locator, group: str, **parts: str) -> None:
    """Type into some segments (year, month, day) of a date field, then commit with Escape.

    Change the segments in an order that never passes through a date outside the field's range:
    the field refuses to commit a range that was invalid on the way.
    """
    fields = scope.get_by_role("group", name=group, exact=True)
    for part, value in parts.items():
        fields.get_by_role("spinbutton", name=re.compile(f"^{part}")).click()
        fields.page.keyboard.type(value)
    fields.page.keyboard.press("Escape")


def open_page(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    idle(page)
    expect(page.get_by_role("heading", level=1).first).to_contain_text(title.split()[0])


def signed_in_on(page: Page, server: AppServer, user: str, title: str) -> None:
    """A new visit to the app as a demo user, on one of their pages."""
    page.goto(server.url + "/")
    idle(page)
    view_as(page, user)
    open_page(page, title)


def no_errors(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


def shoot(page: Page, name: str, tmp: Path) -> None:
    page.set_viewport_size({"width": 1400, "height": 2200})
    painted(page)
    folder = screenshot_dir() or tmp
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


@pytest.mark.parametrize("user", list(ROLE_PAGES))
def test_every_page_of_each_role_renders(server: AppServer, page: Page, user: str,
                                         tmp_path: Path) -> None:
    page.goto(server.url + "/")
    idle(page)
    view_as(page, user)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link")).to_have_count(len(ROLE_PAGES[user]))
    for title in ROLE_PAGES[user]:
        open_page(page, title)
        if title != "Data":
            expect(page.locator(".js-plotly-plot").first).to_be_visible()
        no_errors(page)
        if SHOTS.get((user, title)):
            shoot(page, SHOTS[(user, title)], tmp_path)


def test_grain_and_date_range_change_the_view_and_the_link(server: AppServer, page: Page) -> None:
    signed_in_on(page, server, "Morgan Hale", "Outputs")
    grain = page.get_by_role("radiogroup", name="Grain")
    grain.get_by_role("radio", name="Month").click()
    idle(page)
    expect(page).to_have_url(re.compile(r"grain=month"))
    expect(page.get_by_test_id("stCaptionContainer").filter(has_text="01 Sep–30 Sep 2026").first
           ).to_be_visible()
    type_date(page, "Date range start date", year="2025")
    idle(page)
    type_date(page, "Date range end date", month="06")
    idle(page)
    expect(page).to_have_url(re.compile(r"from=2025-10-01&to=2026-06-30"))
    # the link reproduces the view in a new session, through the sign-in
    link = page.url
    page.goto(link)
    idle(page)
    view_as(page, "Morgan Hale")
    start = page.get_by_role("group", name="Date range start date", exact=True)
    expect(start.get_by_role("spinbutton", name=re.compile("^year"))).to_have_text("2025")
    end = page.get_by_role("group", name="Date range end date", exact=True)
    expect(end.get_by_role("spinbutton", name=re.compile("^month"))).to_have_text("06")
    expect(grain.get_by_role("radio", name="Month")).to_have_attribute("aria-checked", "true")
    no_errors(page)


def test_an_initiative_created_and_recalibrated_survives_a_restart(server: AppServer,
                                                                   page: Page) -> None:
    signed_in_on(page, server, "Morgan Hale", "Strategy rollouts")
    form = page.locator(".st-key-create")
    form.get_by_label("Name").fill("Demos push")
    form.get_by_label("What — the strategy (output goal)").fill("More revenue from more demos.")
    form.get_by_label("How — the tactics (lever goals)").fill("+30% demos per rep-week.")
    type_date(form, "Rollout date", month="04", day="06")
    goals = form.get_by_test_id("stMultiSelect").filter(has_text="Goals")
    goals.click()
    page.keyboard.type("Demos (lever)")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    idle(page)
    form.get_by_label("Target change for Demos (lever) (%)").fill("30")
    form.get_by_role("button", name="Create initiative").click()
    idle(page)
    expect(page.get_by_text("Created “Demos push”")).to_be_visible()
    card = page.locator(".st-key-initiative_card")
    expect(card).to_contain_text("Demos push")
    expect(card).to_contain_text("More revenue from more demos.")
    expect(page.locator(".js-plotly-plot").first).to_be_visible()

    page.get_by_role("tab", name="Re-calibrate a target").click()
    recal = page.get_by_test_id("stForm").filter(has_text="Re-calibrate")
    pick(page, "Metric", "Demos (lever)")
    recal.get_by_label("New target change (%)").fill("40")
    type_date(recal, "Effective from", month="07", day="06")
    recal.get_by_label("Why (shown in the history)").fill("Q2 review: ahead of plan")
    recal.get_by_role("button", name="Re-calibrate").click()
    idle(page)
    expect(page.get_by_text("target +40% from 06 Jul 2026")).to_be_visible()

    server.stop()
    server.start()
    page.goto(server.url + "/rollouts?initiative=demos-push")
    idle(page)
    view_as(page, "Morgan Hale")  # a new session: the link leads there once signed in
    expect(page.locator(".st-key-initiative_card")).to_contain_text("More revenue from more demos.")
    expect(page.locator(".st-key-initiative_card")).to_contain_text("target +40%")
    expect(page.locator(".js-plotly-plot").first).to_contain_text("Target")
    no_errors(page)


def test_import_the_maven_export_into_an_empty_database(empty_server: AppServer, page: Page,
                                                         tmp_path: Path) -> None:
    maven = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "maven_crm"
    first_admin(page, empty_server)
    expect(page.get_by_text("No data yet")).to_be_visible()
    open_page(page, "Data")
    pick(page, "Preset", "maven")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        sorted(str(p) for p in maven.glob("*.csv")))
    idle(page)
    page.get_by_role("button", name="Check files").click()
    idle(page)
    expect(page.get_by_text("8,920 rows read")).to_be_visible()
    expect(page.get_by_text("No problems found.")).to_be_visible()
    expect(page.get_by_text("product read as 'GTXPro' → 'GTX Pro'")).to_be_visible()
    page.get_by_role("button", name="Load", exact=True).click()
    idle(page)
    expect(page.get_by_text("Imported 8,461 rows (500 left out).")).to_be_visible()
    shoot(page, "data", tmp_path)
    open_page(page, "Outputs")
    expect(page.get_by_test_id("stMetricValue").filter(has_text="$2,802,496")).to_be_visible()
    no_errors(page)
    open_page(page, "Insights")  # its statistics, computed after the import (or now)
    expect(page.get_by_role("heading", name="Which levers lead the outputs")).to_be_visible()
    no_errors(page)


def test_a_rep_signs_in_and_cannot_reach_another_reps_page(server: AppServer, page: Page) -> None:
    def sign_in() -> None:
        page.get_by_label("User id or email").fill("rep-r002")
        page.get_by_role("textbox", name="Password").fill(REP_PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        idle(page)

    page.goto(server.url + "/")
    idle(page)
    page.get_by_label("User id or email").fill("rep-r002")
    page.get_by_role("textbox", name="Password").fill("a wrong password!")
    page.get_by_role("button", name="Sign in", exact=True).click()
    idle(page)
    expect(page.get_by_text("wrong login or password")).to_be_visible()
    sign_in()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Signed in as Chen Vargas")
    expect(page.get_by_role("heading", name="My levers")).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Coaching")).to_have_count(0)
    expect(nav.get_by_role("link", name="Team levers")).to_have_count(0)
    # a link to another rep's coaching page leads back to the rep's own page
    page.goto(server.url + "/coaching?rep=R001")
    idle(page)
    sign_in()
    expect(page.get_by_role("heading", name="My levers")).to_be_visible()
    expect(page.get_by_role("heading", name="Coaching")).to_have_count(0)
    no_errors(page)


def test_a_file_of_another_crm_is_mapped_saved_as_a_preset_and_imported(
        empty_server: AppServer, page: Page, tmp_path: Path) -> None:
    export = tmp_path / "deals.csv"
    export.write_text("Deal,Owner,Opened,Phase,Closed on,Value\n"
                      "D1,ann,2025-04-03,Discovery,,1000\n"
                      "D2,ann,2025-04-03,Won,2025-04-20,2500\n"
                      "D3,bob,2025-04-05,Lost,2025-04-25,700\n")
    first_admin(page, empty_server)
    open_page(page, "Data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(export))
    idle(page)
    page.get_by_text("Map columns yourself and save the mapping as a preset").click()
    idle(page)
    for column, source in (("opp_id (required)", "Deal"), ("rep_id (required)", "Owner"),
                           ("created_at (required)", "Opened"), ("stage (required)", "Phase"),
                           ("closed_at", "Closed on"), ("amount", "Value"),
                           ("product", "(one value for every row)")):
        pick(page, column, source)
    page.get_by_label("product: the value").fill("Widgets")
    page.get_by_label("product: the value").press("Enter")
    idle(page)
    expect(page.get_by_text("Stages, in pipeline order")).to_be_visible()
    page.get_by_label("Preset name").fill("other-crm")
    page.get_by_label("Preset name").press("Enter")
    idle(page)
    shoot(page, "data-mapping", tmp_path)
    page.get_by_role("button", name="Save preset").click()
    idle(page)
    expect(page.get_by_text("picked it above: check the files with it")).to_be_visible()
    page.get_by_role("button", name="Check files").click()
    idle(page)
    expect(page.get_by_text("No problems found.")).to_be_visible()
    page.get_by_role("button", name="Load", exact=True).click()
    idle(page)
    expect(page.get_by_text("Imported")).to_be_visible()
    no_errors(page)


def test_a_charts_table_is_drawn_when_opened_and_downloads_as_csv(server: AppServer,
                                                                   page: Page) -> None:
    signed_in_on(page, server, "Morgan Hale", "Outputs")
    expect(page.get_by_test_id("stDataFrame")).to_have_count(0)  # every table closed
    box = page.get_by_test_id("stExpander").filter(has_text="Table and CSV").first
    box.get_by_text("Table and CSV").click()
    idle(page)
    expect(box.get_by_test_id("stDataFrame")).to_be_visible()
    expect(box.get_by_test_id("stDataFrame").locator("canvas").first).to_be_visible()
    painted(page)  # the grid's first layout moves the button below it
    button = box.get_by_role("button", name="Download CSV")
    try:
        with page.expect_download(timeout=15_000) as download:
            button.click()
        path = download.value.path()
    except PlaywrightTimeout:  # a click the grid's layout moved away from: once more, as a user
        with page.expect_download(timeout=30_000) as download:
            button.click()
        path = download.value.path()
    lines = Path(path).read_text().splitlines()
    assert download.value.suggested_filename.endswith(".csv")
    assert '"value"' in lines[0] and len(lines) > 2, lines[:3]
    no_errors(page)
