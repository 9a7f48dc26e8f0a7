"""Issue 14, item 6: a visitor's "clear cache" websocket message (Streamlit's developer-menu
request, which any browser can send before signing in) must not empty the caches every user's
pages are served from; it clears the sender's own session only."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import caching
from streamlit.runtime.app_session import AppSession

from tests.e2e.conftest import AppServer
from ui import guard
from ui.guard import refuse_cache_clearing


class Sender:
    """Just what Streamlit's handler touches on its session."""

    def __init__(self) -> None:
        self.cleared = 0

        class State:
            def clear(inner) -> None:  # noqa: N805 - a stand-in's method
                self.cleared += 1

        self._session_state = State()


def test_the_request_clears_only_the_senders_session(monkeypatch: pytest.MonkeyPatch) -> None:
    emptied: list[str] = []
    monkeypatch.setattr(caching.cache_data, "clear", lambda: emptied.append("data"))
    monkeypatch.setattr(caching.cache_resource, "clear", lambda: emptied.append("resource"))
    # Streamlit's own handler, even when an app test in this process installed the guard already
    streamlit_handler = guard.STREAMLIT_HANDLER or AppSession._handle_clear_cache_request
    assert streamlit_handler is not guard._clear_own_session
    monkeypatch.setattr(AppSession, "_handle_clear_cache_request", streamlit_handler)
    sender = Sender()
    AppSession._handle_clear_cache_request(sender)  # Streamlit's own: it empties everything
    assert emptied == ["data", "resource"] and sender.cleared == 1
    emptied.clear()
    refuse_cache_clearing()
    refuse_cache_clearing()  # once per process, however often the app script runs
    AppSession._handle_clear_cache_request(Sender())
    assert emptied == []


async def _visit_and_ask_to_clear(port: int) -> None:
    async with websockets.connect(f"ws://127.0.0.1:{port}/_stcore/stream",
                                  subprotocols=["streamlit"], max_size=None) as ws:
        run = BackMsg()
        run.rerun_script.query_string = ""
        run.rerun_script.page_script_hash = ""
        await ws.send(run.SerializeToString())
        while True:
            message = ForwardMsg()
            message.ParseFromString(await ws.recv())
            if message.WhichOneof("type") == "script_finished":
                break
        clear = BackMsg()
        clear.clear_cache = True
        await ws.send(clear.SerializeToString())
        await asyncio.sleep(1)


def test_the_message_over_the_websocket_reaches_the_guard(demo_db: Path, tmp_path: Path) -> None:
    """The running app, not signed in: the message is answered by the guard (its log line)."""
    import shutil

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    app = AppServer(db, tmp_path)
    app.start()
    try:
        # in a thread of its own: a browser test of this process may hold a running event loop
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, _visit_and_ask_to_clear(app.port)).result(timeout=60)
        deadline = time.monotonic() + 10
        log = tmp_path / "server.log"
        while "only its own session was cleared" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
    finally:
        app.stop()
