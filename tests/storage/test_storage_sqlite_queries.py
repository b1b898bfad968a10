"""SQLite specifics of the desk queries: schema 5's migration, the due index's plan,
marks surviving a reopen, and the ticket row writing only changed columns."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import attrs

from csmkit.storage import SCHEMA_VERSION, SlaDue, SqliteStore
from csmkit.storage._common import Query
from csmkit.storage._sqlite_index import filters, page_sql
from csmkit.testing import T0, created, next_event
from schema_steps import drop_schema_5


def test_schema_4_file_gets_types_and_no_marks(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    with SqliteStore(path) as store:
        store.append("T-1", [attrs.evolve(created("T-1"), type="complaint")], 0)
        store.append("T-2", [created("T-2")], 0, due=SlaDue(at=T0, target="resolution"))
    connection = sqlite3.connect(path, isolation_level=None)
    drop_schema_5(connection)
    connection.close()
    with SqliteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 5
        assert store.count_tickets("type") == {"complaint": 1, "repair": 1}
        assert [s.type for s in store.find_tickets(type="complaint").items] == ["complaint"]
        assert store.due_before(T0 + timedelta(days=1)).items == ()  # marks come later
        assert store.set_due("T-2", SlaDue(at=T0, target="resolution"), version=1)
        assert [s.ticket_id for s in store.due_before(T0 + timedelta(days=1)).items] == ["T-2"]


def test_due_query_reads_the_partial_index_only(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "d.db") as store:
        query = Query(due_before=T0, limit=100)
        where, params = filters(query)
        where[:0] = ["due_key IS NOT NULL", "due_key < ?"]
        sql, params = page_sql(query, where, [query.before_key, *params], "due_key")
        connection = store._connection
        assert connection is not None
        plan = " | ".join(row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "USING INDEX tickets_by_due" in plan, plan
    assert "SCAN tickets" not in plan.replace("USING INDEX", ""), plan
    assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order


def test_marks_survive_reopening_and_other_handles(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    due = SlaDue(at=(T0 + timedelta(hours=3)).astimezone(T0.tzinfo), target="first_response")
    with SqliteStore(path) as first, SqliteStore(path) as second:
        first.append("T-1", [created("T-1")], 0, due=due)
        (item,) = second.due_before(T0 + timedelta(days=1)).items
        assert item.due == due and item.due.at.utcoffset() == due.at.utcoffset()
        ticket = second.load("T-1").ticket
        second.append("T-1", [next_event(ticket, "solve", T0 + timedelta(hours=1))], 1)
        assert first.due_before(T0 + timedelta(days=1)).items == ()
    with SqliteStore(path) as again:
        (item,) = again.find_tickets().items
        assert item.due is None and item.category.value == "solved"


def test_an_append_updates_only_changed_columns(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "u.db") as store:
        store.append("T-1", [created("T-1")], 0)
        ticket = store.load("T-1").ticket
        seen: list[str] = []
        connection = store._connection
        assert connection is not None
        connection.set_trace_callback(seen.append)
        store.append("T-1", [next_event(ticket, "message", T0 + timedelta(minutes=1))], 1)
        connection.set_trace_callback(None)
    (update,) = [s for s in seen if s.startswith("UPDATE tickets")]
    assigned = update.split(" SET ", 1)[1].split(" WHERE ")[0]
    assert "version = " in assigned and "updated_key = " in assigned
    for unchanged in ("assignee", "group_name", "type", "customer_id", "category", "due_key"):
        assert f"{unchanged} = " not in assigned, update
