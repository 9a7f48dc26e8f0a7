"""What a browser may ask of the server: a visitor's "clear cache" message clears only their own
session.

Streamlit answers the websocket message ``clear_cache`` (the developer menu's "Clear cache") by
emptying every ``st.cache_data`` and ``st.cache_resource`` of the process, for every user, and it
accepts the message from anyone who can open the page, signed in or not. Here it empties only the
sender's session state (which signs that visitor out); the caches are emptied by a restart or by a
new data version, never by a visitor.
"""

from __future__ import annotations

import logging

LOG = logging.getLogger("leverboard")
STREAMLIT_HANDLER = None  # Streamlit's own handler, kept once the guard is installed


def _clear_own_session(self) -> None:  # noqa: ANN001 - streamlit's AppSession
    LOG.warning("a browser asked to clear the caches: only its own session was cleared")
    self._session_state.clear()


def refuse_cache_clearing() -> None:
    """Install the handler (once per process; Streamlit's handler name is checked by
    tests/security/test_clear_cache.py, so an upgrade that renames it fails there)."""
    global STREAMLIT_HANDLER
    from streamlit.runtime.app_session import AppSession

    if AppSession._handle_clear_cache_request is not _clear_own_session:
        STREAMLIT_HANDLER = AppSession._handle_clear_cache_request
        AppSession._handle_clear_cache_request = _clear_own_session  # type: ignore[method-assign]
