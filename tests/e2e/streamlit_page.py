"""Driving a Streamlit page in Playwright without fixed sleeps, shared by every browser test.

A click that changes a widget sends a ``rerun_script`` message over the page's websocket; the
server answers with the new elements and, when the run is over, ``script_finished``. Between the
click and the server's first answer the page still says it is not running, so waiting on the page
alone can return before the rerun has even started. :class:`ScriptRuns` reads both directions of
the websocket (Streamlit's own protobuf messages), and :func:`idle` waits until every rerun the page
asked for has finished.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, WebSocket, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

# a run ended for another one (a newer click, st.rerun): the newer run's end is still to come
_INTERRUPTED = ForwardMsg.FINISHED_EARLY_FOR_RERUN


class ScriptRuns:
    """What the page's websockets carried: rerun requests sent, script runs finished."""

    def __init__(self, page: Page) -> None:
        self.finished = 0  # runs that ended (not interrupted)
        self.waiting_for = 0  # ``finished`` must pass this: the value it had at the last request
        self.asked = False
        page.on("websocket", self._socket)

    def _socket(self, socket: WebSocket) -> None:
        socket.on("framesent", self._sent)
        socket.on("framereceived", self._received)

    def _sent(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            message = BackMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "rerun_script":
                self.waiting_for, self.asked = self.finished, True

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            message = ForwardMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "script_finished" and message.script_finished != _INTERRUPTED:
                self.finished += 1

    def settled(self) -> bool:
        """Every rerun asked for so far has finished (and the page asked for one at all)."""
        return self.asked and self.finished > self.waiting_for


_RUNS: dict[int, ScriptRuns] = {}


def watch(page: Page) -> Page:
    """Count ``page``'s script runs from now on (before its first ``goto``)."""
    _RUNS[id(page)] = ScriptRuns(page)
    return page


def forget(page: Page) -> None:
    _RUNS.pop(id(page), None)


def idle(page: Page, seconds: float = 90) -> None:
    """Wait until the reruns the page asked for are over and nothing on it is loading."""
    painted(page)  # what the last action sent has reached Python by the time this returns
    runs = _RUNS[id(page)]
    deadline = time.monotonic() + seconds
    while not runs.settled():  # events reach Python only while Playwright waits
        assert time.monotonic() < deadline, f"a rerun did not finish within {seconds:g} s"
        page.wait_for_timeout(20)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0)
    expect(page.get_by_test_id("stMain").get_by_role("heading", level=1).first).to_be_visible()


def painted(page: Page) -> None:
    """Wait until the browser has drawn the page as it is now (two animation frames)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def pick(page: Page, label: str, option: str) -> None:
    """Choose an option of a selectbox by its label, typing it to filter a long list (again when
    a rerun that was still starting closed the list)."""
    for _ in range(3):
        page.get_by_role("combobox", name=label).click()
        page.keyboard.type(option)
        try:
            page.get_by_role("option", name=re.compile(re.escape(option))).first.click(
                timeout=5_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            idle(page)
            continue
        idle(page)
        return
    raise AssertionError(f"no option {option!r} in the selectbox {label!r}")


def view_as(page: Page, name: str) -> None:
    """Sign in as a demo user (signing out whoever is in first)."""
    sign_out = page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out")
    if sign_out.count():
        sign_out.click()
        idle(page)
    pick(page, "Demo user", name)
    page.get_by_role("button", name="Enter the demo as this user").click()
    idle(page)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Signed in as {name}")
