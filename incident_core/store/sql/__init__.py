"""The SQL adapter (SQLAlchemy Core): one store for SQLite and PostgreSQL, with its schema.

- `store.py` (`SqlEventStore`) = `core.py` (engines, dialect, prepared statements) +
  `log_reads.py` (the EventLog port) + `inspector_reads.py` (InspectorQueries), adding the
  write transaction, metadata, projections, the saga ledger and snapshots.
- `transaction.py` (log, checkpoints, projection rows, savepoints) +
  `transaction_roles.py` (parked steps, saga outcomes, lineage, snapshots).
- `dialect.py`: what differs between databases; `sqlite.py` / `sqlite_open.py` and
  `postgres.py` / `pg_listener.py`: each database's dialect, engine and opening.
- `schema.py`, `slim.py`, `times.py`, `queries.py`, `sorted.py`, `migrations.py`, `meta.py`:
  the tables, the row format, stored times, the hot statements, sorted pages, upgrades, the
  store's metadata.
"""
