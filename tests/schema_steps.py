"""Undo SQLite schema steps, to build the files an older csmkit wrote (migration tests)."""

from __future__ import annotations

import sqlite3


def drop_schema_5(connection: sqlite3.Connection) -> None:
    """Undo migration 5 (the desk-query columns and indexes) on a schema 5 file."""
    for index in ("tickets_by_due", "tickets_by_group", "tickets_by_type"):
        connection.execute(f"DROP INDEX {index}")
    for column in ("assignee", "customer"):
        connection.execute(f"DROP INDEX tickets_by_{column}")
        name = "customer_id" if column == "customer" else column
        connection.execute(
            f"CREATE INDEX tickets_by_{column} ON tickets ({name}, updated_key, ticket_id)"
        )
    for column in ("type", "due_at", "due_key", "due_target"):
        connection.execute(f"ALTER TABLE tickets DROP COLUMN {column}")
    connection.execute("DELETE FROM csmkit_schema WHERE version = 5")
