"""Pytest plugin providing a real PostgreSQL server: ``pg_server`` and ``pg_url``.

Load with ``-p tests.pg_fixtures`` or ``pytest_plugins = ["tests.pg_fixtures"]``.

Without PostgreSQL binaries the fixtures skip the test, unless the environment variable
``INCIDENT_REQUIRE_POSTGRES=1`` is set, in which case they fail it (so CI cannot pass by
silently skipping every PostgreSQL test).
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator

import psycopg
import pytest

from tests.pg_server import PostgresServer, postgres_available

REQUIRE_ENV = "INCIDENT_REQUIRE_POSTGRES"


def _postgres_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip() == "1"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster shared by the whole test session."""
    reason = postgres_available()
    if reason is not None:
        if _postgres_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but PostgreSQL is unavailable: {reason}")
        pytest.skip(f"PostgreSQL unavailable: {reason}")
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL (``postgresql+psycopg://...``) of a brand-new database for this test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = pg_server.create_database(name)
    yield url
    try:
        pg_server.drop_database(name)
    except psycopg.Error as error:
        # The cluster is thrown away at the end of the session anyway; dropping is only
        # there to keep its disk use down, so a failure must not fail the test.
        warnings.warn(f"could not drop test database {name}: {error}", stacklevel=1)
