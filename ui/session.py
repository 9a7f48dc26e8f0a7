"""Which database, which engine, who is looking. Shared by app.py and every page.

The database is, in order: ``KPI_DATABASE_URL`` (any SQLAlchemy URL), the ``url`` of
``[connections.sql]`` in ``.streamlit/secrets.toml`` (Streamlit's ``st.connection("sql")``
convention), or the DuckDB file ``KPI_DB`` (default ``data/demo.duckdb``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from pathlib import Path
from urllib.parse import urlparse

import streamlit as st

from kpi.engine import Engine
from kpi.errors import KpiError, NotFound
from kpi.people import User, get_user
from kpi.split import open_split
from kpi.store import DuckDBStore, SqlStore, Store
from kpi.store import describe as describe_db

DEFAULT_DB = "data/demo.duckdb"
AUTH_KEY = "auth:user"
SEEN_KEY = "auth:seen"

log = logging.getLogger(__name__)


def db_url() -> str | None:
    """The SQLAlchemy URL the app runs on, if it does not use a DuckDB file."""
    url = os.environ.get("KPI_DATABASE_URL")
    if url:
        return url
    try:
        if not _secrets_present():
            return None  # asking st.secrets would look for the files again on every call
        return st.secrets["connections"]["sql"]["url"]
    except (KeyError, FileNotFoundError, AttributeError):
        return None
    except Exception:  # noqa: BLE001 - a malformed secrets.toml must not take the app down
        return None


SECRETS_SECONDS = 5.0  # how long "no secrets file" holds before the files are looked for again
_no_secrets_until = 0.0


def _secrets_present() -> bool:
    """Secrets already read (or given in code, as tests do), or a secrets file to read. Asked
    some fifty times per page view: a missing file is looked for again after a few seconds,
    not on every call (the option lookup and the file checks were 3% of a server's CPU)."""
    global _no_secrets_until
    if getattr(st.secrets, "_secrets", None):
        return True
    if time.monotonic() < _no_secrets_until:
        return False
    if any(Path(p).expanduser().exists() for p in st.get_option("secrets.files")):
        return True
    _no_secrets_until = time.monotonic() + SECRETS_SECONDS
    return False


def app_db() -> str | None:
    """With a warehouse as the database: the DuckDB file beside it (``KPI_APP_DB``) that keeps
    the app's tables, the rollups and the kept insights (see kpi/split.py)."""
    return os.environ.get("KPI_APP_DB") or None


def db_path() -> str:
    """A key naming the database (the URL with its password masked, or the DuckDB path)."""
    url = db_url()
    if url and app_db():
        return f"{describe_db(url)} (with {app_db()})"
    return describe_db(url) if url else os.environ.get("KPI_DB", DEFAULT_DB)


def _sql(read_only: bool) -> Store:
    url, beside = db_url() or "", app_db()
    if beside:
        return open_split(SqlStore.open_url(url), beside, read_only, shared=True)
    return SqlStore.open_url(url, read_only=read_only)


@st.cache_resource(show_spinner=False)
def _engine(key: str) -> Engine:
    eng = Engine(_sql(read_only=True) if db_url() else DuckDBStore.shared(key))
    _insights_on_start(eng)
    return eng


def _insights_on_start(eng: Engine) -> None:
    """When a server opens a database whose kept insights are not this code's on the current
    data version (after an upgrade, or an import with ``--no-insights``), compute them in the
    background, as after an import: the first visit to Insights reads them, or waits for the
    one computation instead of starting its own. The check and the writer are opened in the
    background too (beside a warehouse they take seconds, and another program may hold the
    app's file), so the first page never waits for them and never fails for them; where
    answers cannot be kept, nothing is computed ahead."""
    from kpi import views
    from kpi.insights import stored

    def start() -> None:
        try:
            if views.insights_current(eng):
                return
            keeper = writer()
            if not stored.can_keep(keeper):
                return
            questions = views.insight_questions(eng) + views.team_questions(eng)
        except KpiError as exc:  # no data yet, or a database this server cannot write
            log.info("insights not computed on start: %s", exc)
            return
        stored.refresh(eng, keeper, questions)

    stored.in_background(start)


@st.cache_resource(show_spinner=False)
def _sql_writer(key: str) -> Store:
    return _sql(read_only=False)


def engine() -> Engine:
    """The app's engine: one shared, thread-safe, read-guarded connection per database."""
    return _engine(db_path())


def writer() -> Store:
    """A store that may write (initiative edits); each use gets its own connection or cursor."""
    if db_url():
        return _sql_writer(db_path())
    return DuckDBStore.shared(db_path(), read_only=False)


def refresh_insights() -> None:
    """Compute the Insights page's statistics on the new data, in the background: the
    executive's first, then each team's."""
    from kpi import views
    from kpi.insights import stored

    eng = engine()
    stored.refresh_in_background(eng, writer(), lambda: views.insight_questions(eng)
                                 + views.team_questions(eng))


def database_ready() -> bool:
    if db_url():
        return app_db() is None or Path(app_db() or "").is_file()
    return Path(db_path()).is_file()


def setup_hint() -> str:
    """What to run when :func:`database_ready` is False."""
    if db_url():
        return (f"No app database at `{app_db()}` beside the warehouse yet. Create it, with the "
                "rollups summed in the warehouse, by `python -m kpi refresh --db URL --app-db "
                f"{app_db()}`.")
    return (f"No database at `{db_path()}`. Build the demo with `make run` or "
            "`python -m kpi demo --db data/demo.duckdb`; import your own CRM export with "
            "`python -m kpi import FILES --db data/mine.duckdb --preset salesforce` and set "
            "KPI_DB to it; or point KPI_DATABASE_URL at your database.")


def user() -> User:
    """The signed-in user the pages are drawn for (set by app.py before the page runs)."""
    return st.session_state["user"]


def timeout() -> dt.timedelta:
    return dt.timedelta(minutes=float(os.environ.get("KPI_SESSION_MINUTES", "60")))


def sign_in(user_id: str) -> None:
    st.session_state[AUTH_KEY] = user_id
    st.session_state[SEEN_KEY] = dt.datetime.now()
    st.session_state.pop("auth:expired", None)


def sign_out(expired: bool = False) -> None:
    for key in (AUTH_KEY, SEEN_KEY, "user"):
        st.session_state.pop(key, None)
    if expired:
        st.session_state["auth:expired"] = True


def signed_in(eng: Engine) -> User | None:
    """The user of this session, or None (never signed in, signed out, or idle too long).

    The row is read again on every run, so a changed role or binding applies at once.
    """
    user_id = st.session_state.get(AUTH_KEY)
    if user_id is None and _sso_user():
        user_id = _sso_user()
    if user_id is None:
        return None
    seen = st.session_state.get(SEEN_KEY, dt.datetime.now())
    if dt.datetime.now() - seen > timeout():
        sign_out(expired=True)
        return None
    st.session_state[SEEN_KEY] = dt.datetime.now()
    try:
        return get_user(eng.store, user_id)
    except NotFound:  # a busy database is not a reason to sign anyone out
        sign_out()
        return None


def remember_destination() -> None:
    """Keep the page a signed-out visitor asked for (a shared link), to open it after sign-in."""
    if "auth:next" not in st.session_state:
        path = urlparse(str(st.context.url or "")).path.strip("/")
        st.session_state["auth:next"] = path.rsplit("/", 1)[-1]


def take_destination() -> str | None:
    return st.session_state.pop("auth:next", None)


def is_local() -> bool:
    """The visitor's browser runs on this machine (the demo's password-free users are offered
    to nobody else): connected over loopback, to a loopback host name, through no proxy."""
    try:
        return local_visitor(_peer_address(), dict(st.context.headers))
    except Exception:  # noqa: BLE001 - no runtime or an unknown Streamlit: not local
        return False


_PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host")


def local_visitor(peer: str | None, headers: dict[str, str]) -> bool:
    """A loopback peer (the TCP connection, not a header anyone can send), no proxy header, and
    a loopback Host (a reverse proxy on this machine that adds no header still sends its
    public name unless told otherwise; DNS rebinding sends the attacker's)."""
    import ipaddress

    try:
        if peer is None or not ipaddress.ip_address(peer).is_loopback:
            return False
    except ValueError:
        return False
    names = {k.lower(): v for k, v in headers.items()}
    if any(h in names for h in _PROXY_HEADERS):
        return False
    host = names.get("host", "").strip().lower()
    host = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
    return host in ("localhost", "127.0.0.1", "::1")


def client_address() -> str:
    """Where this session's browser connects from, for throttling failed sign-ins: the
    connection's address, or the address a trusted reverse proxy (``KPI_TRUSTED_PROXIES``,
    addresses separated by commas) puts last in X-Forwarded-For."""
    try:
        peer = _peer_address()
        trusted = {a.strip() for a in os.environ.get("KPI_TRUSTED_PROXIES", "").split(",")}
        forwarded = st.context.headers.get("X-Forwarded-For", "") if peer in trusted else ""
    except Exception:  # noqa: BLE001 - no runtime (tests, scripts)
        return "unknown"
    return forwarded.split(",")[-1].strip() or peer or "unknown"


def _peer_address() -> str | None:
    """The IP address of the browser's connection as the server sees it (loopback included:
    ``st.context.ip_address`` reads None both for loopback and for no connection at all)."""
    from streamlit.runtime import exists, get_instance
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not exists():
        return None
    client = get_instance().get_client(ctx.session_id)
    peer = getattr(getattr(client, "client_context", None), "remote_ip", None)
    return peer if isinstance(peer, str) else None  # AppTest's runtime is a mock


def sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no or a malformed secrets.toml: no SSO
        return False


def _sso_user() -> str | None:
    """Map a single-sign-on identity (st.login) to a user row by email."""
    if not sso_configured() or not getattr(st.user, "is_logged_in", False):
        return None
    from kpi.auth import user_for_email

    try:
        found = user_for_email(engine().store, str(st.user.email))
    except NotFound as exc:
        st.session_state["auth:sso_error"] = str(exc)
        return None
    sign_in(found.user_id)
    return found.user_id
