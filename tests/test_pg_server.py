"""Tests of the PostgreSQL test harness itself (``tests/pg_server.py``, ``tests/pg_fixtures.py``).

Run with ``pytest tests/test_pg_server.py -p tests.pg_fixtures``.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.pg_server import PostgresServer, postgres_available, to_libpq_url

pytestmark = pytest.mark.postgres


def test_postgres_available_returns_none_or_reason() -> None:
    reason = postgres_available()
    assert reason is None or (isinstance(reason, str) and reason)


def test_server_url_shape(pg_server: PostgresServer) -> None:
    assert pg_server.url == f"postgresql+psycopg://postgres@127.0.0.1:{pg_server.port}/postgres"


def test_select_one(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    with psycopg.connect(to_libpq_url(pg_url)) as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row == (1,)


def test_pg_urls_are_distinct_fresh_databases(pg_server: PostgresServer) -> None:
    first = pg_server.create_database()
    second = pg_server.create_database()
    assert first != second
    with psycopg.connect(to_libpq_url(first), autocommit=True) as conn:
        conn.execute("CREATE TABLE marker (id int)")
        db_first = conn.execute("SELECT current_database()").fetchone()
    with psycopg.connect(to_libpq_url(second)) as conn:
        db_second = conn.execute("SELECT current_database()").fetchone()
        exists = conn.execute("SELECT to_regclass('public.marker')").fetchone()
    assert db_first != db_second
    assert exists == (None,)


# Two tests that each take ``pg_url`` must get different databases; the first records the
# database it saw and the second checks its own is a different, empty one.
_seen: list[str] = []


@pytest.mark.parametrize("round_", [1, 2])
def test_pg_url_is_new_per_test(pg_url: str, round_: int) -> None:
    with psycopg.connect(to_libpq_url(pg_url), autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        conn.execute("CREATE TABLE leftover (id int)")
    assert name is not None and tables == (0,)
    assert name[0] not in _seen
    _seen.append(name[0])


def test_durability_defaults_kept(pg_url: str) -> None:
    with psycopg.connect(to_libpq_url(pg_url)) as conn:
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'full_page_writes', 'listen_addresses')"
            ).fetchall()
        )
    assert settings == {
        "fsync": "on",
        "synchronous_commit": "on",
        "full_page_writes": "on",
        "listen_addresses": "127.0.0.1",
    }


def test_context_manager_stops_and_cleans_up(pg_server: PostgresServer) -> None:
    # Requests pg_server only for its skip-or-fail handling when PostgreSQL is missing.
    with PostgresServer() as server:
        data_dir = server.data_dir
        conninfo = server.conninfo()
        with psycopg.connect(conninfo) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not data_dir.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(conninfo, connect_timeout=2)
