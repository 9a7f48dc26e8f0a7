"""Another program with the database file open (the CLI, a notebook): a child process driven
over stdin. ``take`` opens the file (``write``: for writing, taking DuckDB's write lock;
``read``: read-only, as a notebook does), retrying until it can; ``release`` closes it."""

from __future__ import annotations

import sys
import time

import duckdb


def main(path: str, mode: str) -> None:
    con = None
    for line in sys.stdin:
        command = line.strip()
        if command == "take":
            deadline = time.monotonic() + 20
            while con is None:
                try:
                    con = duckdb.connect(path, read_only=mode == "read")
                except duckdb.Error:
                    if time.monotonic() > deadline:
                        print("failed", flush=True)
                        break
                    time.sleep(0.01)
            if con is not None:
                print("held", flush=True)
        elif command == "release":
            if con is not None:
                con.close()
                con = None
            print("released", flush=True)
        elif command == "quit":
            break


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
