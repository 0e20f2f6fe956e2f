"""Real engines for tests: a throwaway PostgreSQL cluster and one local Spark session per
test run, and an ``engine`` fixture that runs a test on DuckDB, PostgreSQL and Spark.

Loaded by tests/conftest.py (``pytest_plugins``), so every test module can ask for them:

* ``postgres_url`` (session): the URL of a database on a fresh PostgreSQL cluster on
  127.0.0.1 at a free port (``postgresql://USER@127.0.0.1:PORT/segmint``).
* ``spark`` (session): a SparkSession from ``segmint.engine.spark.session``.
* ``engine`` (function, parametrized ``duckdb``, ``postgres``, ``spark``): an ``Engine`` on
  each; the PostgreSQL and Spark cases carry the ``postgres`` and ``spark`` markers.

A missing engine fails the test with how to install it; nothing is skipped silently.
``SEGMINT_NO_ENGINES=1`` skips the PostgreSQL and Spark cases instead (docs/engines.md).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HOW_TO_INSTALL_POSTGRES = (
    "install PostgreSQL (Debian: apt-get install -y postgresql; .ci/run does it) "
    "or set SEGMINT_NO_ENGINES=1 to skip the PostgreSQL tests"
)
HOW_TO_INSTALL_SPARK = (
    "install pyspark with pip install -e '.[test]' and Java 17 "
    "(Debian: apt-get install -y openjdk-17-jre-headless), "
    "or set SEGMINT_NO_ENGINES=1 to skip the Spark tests"
)


def drop(engine: Any, *statements: str, tries: int = 5) -> None:
    """Run teardown ``DROP ... CASCADE`` statements on a PostgreSQL engine. A workspace's
    session that just closed may still be dropping its temporary views on the server,
    which depend on the tables being dropped; the two can deadlock, and PostgreSQL then
    aborts one of them. The aborted statement is run again (autocommit: nothing else is
    lost)."""
    import time

    import psycopg

    for statement in statements:
        for attempt in range(tries):
            try:
                engine.run(statement)
                break
            except psycopg.errors.DeadlockDetected:
                if attempt == tries - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))


def _opted_out(what: str) -> None:
    if os.environ.get("SEGMINT_NO_ENGINES") == "1":
        pytest.skip(f"SEGMINT_NO_ENGINES=1: {what} tests skipped")


def _pg_bin(tool: str) -> str | None:
    found = shutil.which(tool)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_cluster_owner(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run as the ``postgres`` user there."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database on a throwaway PostgreSQL cluster, stopped and removed at the end."""
    _opted_out("PostgreSQL")
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail(
            f"initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin: "
            f"{HOW_TO_INSTALL_POSTGRES}"
        )
    try:
        import psycopg
    except ImportError:
        pytest.fail("psycopg is missing: pip install -e '.[test]'")
    root = Path(tempfile.mkdtemp(prefix="segmint-pg-"))
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(
                f"running as root needs the user 'postgres' to own the cluster: "
                f"{HOW_TO_INSTALL_POSTGRES}"
            )
        shutil.chown(root, "postgres", "postgres")
        user = "postgres"
    else:
        import getpass

        user = getpass.getuser()
    data, port = root / "data", _free_port()
    started = False
    try:
        _run(
            _as_cluster_owner(
                [initdb, "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8", "--no-sync"]
            )
        )
        options = f"-k {root} -h 127.0.0.1 -p {port} -F"
        _run(
            _as_cluster_owner(
                [pg_ctl, "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start"]
            )
        )
        started = True
        with psycopg.connect(
            f"postgresql://{user}@127.0.0.1:{port}/postgres", autocommit=True
        ) as con:
            con.execute("CREATE DATABASE segmint")
        yield f"postgresql://{user}@127.0.0.1:{port}/segmint"
    finally:
        if started:
            _run(_as_cluster_owner([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]))
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local SparkSession for the whole run (~10 s to start)."""
    _opted_out("Spark")
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.fail(f"pyspark is missing: {HOW_TO_INSTALL_SPARK}")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.fail(f"Java not found: {HOW_TO_INSTALL_SPARK}")
    from segmint.engine.spark import session

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    spark = session(warehouse=str(warehouse))
    yield spark
    spark.stop()


ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=pytest.mark.spark),
]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An Engine on DuckDB (in memory, fresh), PostgreSQL (a new connection to the
    session's database) or Spark (the session's SparkSession)."""
    if request.param == "duckdb":
        import duckdb

        from segmint.engine.duckdb import DuckDBEngine

        con = duckdb.connect()
        yield DuckDBEngine(con)
        con.close()
    elif request.param == "postgres":
        from segmint.engine.postgres import connect

        pg = connect(request.getfixturevalue("postgres_url"))
        yield pg
        pg.con.close()
    else:
        from segmint.engine.spark import SparkEngine

        yield SparkEngine(request.getfixturevalue("spark"))
