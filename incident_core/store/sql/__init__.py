"""The SQL adapter (SQLAlchemy Core): one store for SQLite and PostgreSQL, with its schema."""
