"""A throwaway Spark SQL for the tests: a Thrift server (what Databricks, EMR and Dataproc expose to
SQL clients) started from the pyspark package, in one local JVM or, with ``workers``, on a
standalone cluster of a master and that many workers, each a JVM of its own on this machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SparkProcesses:
    """The JVMs of one Spark; :meth:`stop` ends them all and removes their files."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.root = Path(tempfile.mkdtemp(prefix="leverboard-spark-"))
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def _start(self, name: str, args: list[str]) -> Path:
        log = self.root / f"{name}.log"
        env = {**os.environ, "SPARK_HOME": str(self.home), "SPARK_LOG_DIR": str(self.root),
               "SPARK_WORKER_DIR": str(self.root / f"{name}-work")}
        with log.open("wb") as out:
            proc = subprocess.Popen(args, cwd=self.root, stdout=out, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
        self.procs.append((proc, log))
        return log

    def _wait(self, log: Path, text: str, count: int = 1, seconds: float = 180) -> None:
        deadline = time.monotonic() + seconds
        while log.read_text(errors="replace").count(text) < count:
            dead = [p for p, _ in self.procs if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"Spark did not start ({text!r} not in {log.name}):\n"
                                   + log.read_text(errors="replace")[-3000:])
            time.sleep(0.5)

    def cluster(self, workers: int) -> str:
        """A standalone master and ``workers`` workers of one core each; the master's URL."""
        port = free_port()
        klass = str(self.home / "bin" / "spark-class")
        master = self._start("master", [klass, "org.apache.spark.deploy.master.Master", "--host",
                                        "127.0.0.1", "--port", str(port), "--webui-port",
                                        str(free_port())])
        self._wait(master, "I have been elected leader")
        for i in range(workers):
            self._start(f"worker{i}", [klass, "org.apache.spark.deploy.worker.Worker", "--host",
                                       "127.0.0.1", "--cores", "1", "--memory", "1g",
                                       "--webui-port", str(free_port()), f"spark://127.0.0.1:{port}"])
        self._wait(master, "Registering worker", count=workers)
        return f"spark://127.0.0.1:{port}"

    def thrift_server(self, master: str) -> str:
        """The SQL endpoint, as SQLAlchemy's ``hive://`` URL."""
        port = free_port()
        log = self._start("thrift", [
            str(self.home / "bin" / "spark-submit"), "--class",
            "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2", "--master", master,
            # the driver plans a page section's union of requests: room beyond Spark's 1g default
            "--driver-memory", "2g", "--executor-memory", "1g", "--conf", "spark.ui.enabled=false",
            # a few thousand rows a table: two shuffle partitions, not Spark's 200
            "--conf", "spark.sql.shuffle.partitions=2",
            "--conf", f"spark.sql.warehouse.dir={self.root / 'warehouse'}",
            "--driver-java-options", f"-Dderby.system.home={self.root}",
            "--hiveconf", f"hive.server2.thrift.port={port}",
            "--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1", "spark-internal"])
        self._wait(log, "HiveThriftServer2 started")
        return f"hive://127.0.0.1:{port}/default"

    def stop(self) -> None:
        for proc, log in self.procs:  # one that ended before it was stopped: say why
            if proc.poll() is not None:
                tail = log.read_text(errors="replace").splitlines()[-40:]
                print(f"\n{log.name} ended early (exit {proc.returncode}):\n" + "\n".join(tail),
                      file=sys.stderr)
        for proc, _ in reversed(self.procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def load_parquet(url: str, db: Path, folder: Path) -> None:
    """Every table of the DuckDB file ``db`` (its kept insights and rollups aside) into the
    Spark at ``url``, as a warehouse is filled: written as Parquet in ``folder`` (here by DuckDB)
    and created from it."""
    import duckdb
    import sqlalchemy

    from kpi.schema import TABLES

    engine = sqlalchemy.create_engine(url)
    source = duckdb.connect(str(db), read_only=True)
    try:
        with engine.connect() as con:
            for table in TABLES:
                if table == "stored_insights":
                    continue
                path = folder / f"{table}.parquet"
                source.execute(f"COPY {table} TO '{path}' (FORMAT parquet)")
                con.execute(sqlalchemy.text(
                    f"CREATE TABLE {table} USING parquet AS SELECT * FROM parquet.`{path}`"))
    finally:
        source.close()
        engine.dispose()
