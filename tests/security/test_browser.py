"""Low, in a real browser: a hostile name fires no beacon and makes no link.

With names rendered as Markdown, an initiative or a rep named ``![b](http://.../beacon.png)``
made every viewer's browser fetch that address (a beacon that fired for reps), and
``<a href>`` in a rep's name became a link in the heat map. Debian's Chromium, as tests/e2e.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api as playwright
from playwright.sync_api import Browser

from tests.e2e.conftest import AppServer
from tests.e2e.streamlit_page import forget, idle, view_as, watch

# links out of the page (a heading's own #anchor, made from its text, is not one)
LINKS = "a[href*='evil']:not([href^='#']), a[href*='127.0.0.1:9']:not([href^='#'])"


@pytest.fixture
def hostile_server(hostile: Path, tmp_path: Path) -> Iterator[AppServer]:
    app = AppServer(hostile, tmp_path)
    app.start()
    yield app
    app.stop()


def test_hostile_names_fire_no_beacon_and_make_no_link(hostile_server: AppServer,
                                                        browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = watch(context.new_page())
        page.set_default_timeout(90_000)
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url))
        page.goto(hostile_server.url + "/")
        idle(page)
        main = page.get_by_test_id("stMain")

        view_as(page, "Chen Vargas")  # a rep: the initiative card heads My levers
        card = page.locator(".st-key-initiative_card")
        playwright.expect(card).to_contain_text("beacon.png", timeout=90_000)
        assert main.locator("img").count() == 0
        assert main.locator(LINKS).count() == 0

        view_as(page, "Boss")  # the manager: rep names in the heat map
        page.wait_for_selector(".js-plotly-plot")
        idle(page)
        assert page.locator(".js-plotly-plot a").count() == 0
        assert "Yara" in page.locator(".js-plotly-plot").first.text_content()
        assert main.locator(LINKS).count() == 0
    finally:
        forget(page)
        context.close()
    assert not [u for u in fetched if "127.0.0.1:9" in u or "evil.example" in u]
