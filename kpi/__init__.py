"""leverboard's engine: canonical sales data, metric catalog, SQL engine, baselines, demo and CLI.

Usable without Streamlit: the CLI, notebooks and tests import it directly.
"""

__version__ = "0.1.0"
