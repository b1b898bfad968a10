"""The PostgreSQL store against a real server: schema versions, lost connections, credentials."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import csmkit
import csmkit.storage._postgres as pg_module
from _pg_server import PASSWORD, PgServer
from csmkit.errors import NotFoundError, StorageError, StoreArgumentError
from csmkit.storage import Customer, Identity, PostgresStore, SlaDue, open_store
from csmkit.storage._pg_schema import PG_MIGRATIONS, PG_SCHEMA_VERSION
from csmkit.testing import T0, created, next_event


@pytest.fixture
def schema(pg_server: PgServer) -> str:
    return pg_server.new_schema()


@pytest.fixture
def store(pg_server: PgServer, schema: str) -> Iterator[PostgresStore]:
    with PostgresStore(pg_server.url(), schema=schema) as opened:
        yield opened


def _ticket(store: PostgresStore, ticket_id: str, actions: int = 2) -> int:
    event = created(ticket_id, T0)
    store.append(ticket_id, [event], 0)
    timeline = store.load(ticket_id)
    for index in range(actions):
        event = next_event(timeline.ticket, "message", T0, message_id=f"<{ticket_id}.{index}@x>")
        store.append(ticket_id, [event], timeline.ticket.version)
        timeline = store.load(ticket_id)
    return timeline.ticket.version


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ----------------------------------------------------------------- opening by URL
def test_open_store_by_url_with_query_options(pg_server: PgServer, schema: str) -> None:
    url = pg_server.url(schema=schema, pool_size="2")
    with open_store(url) as store:
        assert isinstance(store, PostgresStore)
        assert store.where.endswith(f"(schema {schema})")
        assert _ticket(store, "T-1") == 3
    with open_store(url.replace("postgresql://", "PostgreSQL://", 1)) as again:
        assert again.version("T-1") == 3  # same schema, same data


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"schema": "Bad-Name"}, "schema must be"),
        ({"pool_size": 0}, "pool_size must be > 0"),
        ({"pool_size": "many"}, "not a number"),
        ({"connect_timeout": -1}, "connect_timeout must be > 0"),
        ({"colour": "blue"}, "unknown option"),
    ],
)
def test_bad_options_are_refused(pg_server: PgServer, options: Any, message: str) -> None:
    with pytest.raises(StoreArgumentError, match=message):
        PostgresStore(pg_server.url(), **options)


# ----------------------------------------------------------------- schema versions
def test_old_schema_is_migrated_forward(pg_server: PgServer, schema: str) -> None:
    """A schema-2 store (no type, no due marks) written with data, reopened: migrated,
    the type backfilled from each TicketCreated, and the store fully usable."""

    class OldStore(PostgresStore):
        _migrations = PG_MIGRATIONS[:2]

    current = pg_server.new_schema()
    with PostgresStore(pg_server.url(), schema=current) as store:
        _ticket(store, "T-1")
        store.append("T-2", [created("T-2", T0)], 0)
    with OldStore(pg_server.url(), schema=schema) as old:
        assert old.schema_version == 2
    old_columns = (
        "ticket_id, version, status, category, priority, assignee, group_name, customer_id, "
        "created_at, updated_at, updated_key, state"
    )
    with pg_server.admin() as admin:  # the rows a schema-2 csmkit wrote
        admin.execute(f"INSERT INTO {schema}.events SELECT * FROM {current}.events")
        admin.execute(f"INSERT INTO {schema}.changes SELECT * FROM {current}.changes")
        admin.execute(
            f"INSERT INTO {schema}.tickets ({old_columns}) "
            f"SELECT {old_columns} FROM {current}.tickets"
        )
        admin.execute(f"UPDATE {schema}.write_position SET last = 5")
    with PostgresStore(pg_server.url(), schema=schema) as new:
        assert new.schema_version == PG_SCHEMA_VERSION == 3
        ticket_type = new.load("T-1").ticket.type
        assert [s.ticket_id for s in new.find_tickets(type=ticket_type).items] == ["T-1", "T-2"]
        assert new.count_tickets("type") == {ticket_type: 2}
        assert new.version("T-1") == 3
        assert new.position() == 5
        assert new.due_before(T0 + timedelta(days=9)).items == ()  # no marks yet
        assert new.set_due("T-2", SlaDue(at=T0, target="first_response"), version=1)
        assert [s.ticket_id for s in new.due_before(T0 + timedelta(days=9)).items] == ["T-2"]
        new.save_customer(Customer("C-1", identities=[Identity("email", "a@example.com")]))
        assert new.find_customer("email", "A@example.com") == new.get_customer("C-1")


def test_newer_schema_is_refused_and_left_untouched(pg_server: PgServer, schema: str) -> None:
    with PostgresStore(pg_server.url(), schema=schema) as store:
        _ticket(store, "T-1")
    with pg_server.admin() as admin:
        admin.execute(
            f"INSERT INTO {schema}.csmkit_schema (version, description) VALUES (99, 'future')"
        )
    with pytest.raises(StorageError, match="schema version 99, newer than the 3"):
        PostgresStore(pg_server.url(), schema=schema)
    with pg_server.admin() as admin:
        count = admin.execute(f"SELECT count(*) FROM {schema}.events").fetchone()
    assert count == (3,)


def test_foreign_schema_is_refused(pg_server: PgServer, schema: str) -> None:
    with pg_server.admin() as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        admin.execute(f"CREATE TABLE {schema}.orders (id int)")
    with pytest.raises(StorageError, match=r"not a csmkit store .* orders"):
        PostgresStore(pg_server.url(), schema=schema)


def test_concurrent_openers_create_the_schema_once(pg_server: PgServer, schema: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        try:
            barrier.wait()
            PostgresStore(pg_server.url(), schema=schema).close()
        except BaseException as exc:  # pragma: no cover - the failure is reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with pg_server.admin() as admin:
        rows = admin.execute(f"SELECT version FROM {schema}.csmkit_schema ORDER BY 1").fetchall()
    assert rows == [(m.version,) for m in PG_MIGRATIONS]


def test_nul_in_an_indexed_column_is_a_clear_error(store: PostgresStore) -> None:
    with pytest.raises(StorageError, match="NUL character"):
        store.append("T\x00-1", [created("T\x00-1", T0)], 0)
    assert store.version("T\x00-1") == 0
    assert store.position() == 0
    with pytest.raises(StorageError, match="NUL character"):
        store.save_customer(Customer("C-1", name="bad\x00name"))


# ----------------------------------------------------------------- a server that is down
def test_server_down_at_start_is_a_storage_error() -> None:
    url = f"postgresql://desk:{PASSWORD}@127.0.0.1:{_free_port()}/desk"
    with pytest.raises(
        StorageError, match=r"open the store in postgresql://desk@127\.0\.0\.1"
    ) as info:
        PostgresStore(url, connect_timeout=1)
    assert PASSWORD not in str(info.value)
    assert PASSWORD not in repr(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def _kill_other_backends(pg_server: PgServer) -> None:
    with pg_server.admin() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )


def test_connection_killed_mid_batch(
    pg_server: PgServer, store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = _ticket(store, "T-1")
    position = store.position()
    ticket = store.load("T-1").ticket
    batch = [
        next_event(ticket, "message", T0, message_id="<lost.1@x>"),
    ]
    batch.append(next_event(ticket.apply(batch[0]), "message", T0, message_id="<lost.2@x>"))
    real_dump = pg_module.dump_state

    def dump_then_die(*args: Any) -> str:
        # The batch's events are inserted; the connection dies before the commit.
        _kill_other_backends(pg_server)
        return real_dump(*args)

    monkeypatch.setattr(pg_module, "dump_state", dump_then_die)
    with pytest.raises(StorageError, match="lost the connection") as info:
        store.append("T-1", batch, version)
    assert not isinstance(info.value, pg_module.ConcurrencyError)
    monkeypatch.setattr(pg_module, "dump_state", real_dump)
    # All or nothing: no event, no position, no message id of the batch.
    assert store.version("T-1") == version
    assert store.position() == position
    assert store.find_ticket_by_message_id("<lost.1@x>") is None
    assert len(list(store.load("T-1"))) == version
    # The next call reconnected; the same batch now goes in.
    assert store.append("T-1", batch, version) == version + 2
    assert store.find_ticket_by_message_id("<lost.2@x>") == "T-1"


def test_every_pooled_connection_killed_then_calls_recover(
    pg_server: PgServer, store: PostgresStore
) -> None:
    _ticket(store, "T-1")
    _kill_other_backends(pg_server)
    results: list[object] = []
    for _ in range(3):
        try:
            results.append(store.version("T-1"))
        except StorageError as exc:
            results.append(type(exc))
    assert results[-1] == 3  # at most the dead connections fail, then it reconnects
    assert results.count(3) >= 2


# ----------------------------------------------------------------- credentials
def test_credentials_never_in_errors_or_logs(
    pg_server: PgServer, schema: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-Pass_word"
    seen: list[str] = []
    with pytest.raises(StorageError, match="password authentication failed") as info:
        PostgresStore(pg_server.password_url(wrong), schema=schema, connect_timeout=2)
    seen += [str(info.value), repr(info.value)]
    down = f"postgresql://desk_user:{wrong}@127.0.0.1:{_free_port()}/csmkit?password={PASSWORD}"
    with pytest.raises(StorageError) as info:
        PostgresStore(down, connect_timeout=1)
    seen += [str(info.value), repr(info.value)]
    with pytest.raises(StoreArgumentError) as bad:
        PostgresStore(f"postgresql://u:{wrong}@host:notaport/db")
    seen += [str(bad.value)]
    with PostgresStore(pg_server.password_url(), schema=schema) as store:
        seen += [repr(store), store.where]
        _ticket(store, "T-1")
        with pytest.raises(NotFoundError) as missing:
            store.load("T-2")
        seen += [str(missing.value)]
        store.close()
        with pytest.raises(StorageError) as closed:
            store.version("T-1")
        seen += [str(closed.value)]
    seen += [record.getMessage() for record in caplog.records]
    seen += [str(record.args) for record in caplog.records]
    for text in seen:
        assert PASSWORD not in text
        assert wrong not in text
    assert any("desk_user@" in text for text in seen)


def test_a_missing_position_counter_refuses_the_batch(
    pg_server: PgServer, store: PostgresStore, schema: str
) -> None:
    _ticket(store, "T-1", actions=0)
    with pg_server.admin() as admin:
        admin.execute(f"DELETE FROM {schema}.write_position")
    with pytest.raises(StorageError, match="position"):
        store.append("T-2", [created("T-2", T0)], 0)
    assert store.version("T-2") == 0
    assert [c.ticket_id for c in store.changes_after(0)] == ["T-1"]


# ----------------------------------------------------------------- LISTEN / NOTIFY
def test_wait_for_changes_wakes_on_a_commit_in_another_process(
    pg_server: PgServer, store: PostgresStore, schema: str
) -> None:
    assert store.wait_for_changes(0, timeout=0.05) == 0  # nothing written: times out
    _ticket(store, "T-1", actions=0)
    assert store.wait_for_changes(0, timeout=5) == 1  # already past: returns at once
    code = (
        "import sys, time\n"
        "from csmkit.storage import PostgresStore\n"
        "from csmkit.testing import T0, created\n"
        "store = PostgresStore(sys.argv[1], schema=sys.argv[2])\n"
        "time.sleep(0.5)\n"
        "store.append('T-2', [created('T-2', T0)], 0)\n"
        "store.close()\n"
    )
    src = Path(csmkit.__file__).resolve().parent.parent
    writer = subprocess.Popen(
        [sys.executable, "-c", code, pg_server.url(), schema],
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    try:
        # Woken by the writer's commit (the timeout is only a safety net).
        assert store.wait_for_changes(1, timeout=120) == 2
    finally:
        assert writer.wait(timeout=120) == 0
    assert store.version("T-2") == 1


def test_wait_for_changes_after_the_listener_died(
    pg_server: PgServer, store: PostgresStore
) -> None:
    assert store.wait_for_changes(0, timeout=0) == 0
    _kill_other_backends(pg_server)
    with pytest.raises(StorageError, match="wait for changes"):
        store.wait_for_changes(0, timeout=0)
    assert store.wait_for_changes(0, timeout=0) == 0  # reconnected
    with pytest.raises(StoreArgumentError):
        store.wait_for_changes(-1, timeout=1)
    store.close()
    with pytest.raises(StorageError, match="closed"):
        store.wait_for_changes(0, timeout=0)
