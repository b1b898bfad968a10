"""The desk hands the bundled stores its own fold of each batch (``_folded``): the file
it writes is row for row the file it writes when the store folds every batch itself."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from csmkit.workflow import Actor

DISPATCHER = Actor("d1", {"dispatcher"})
WANG = Actor("wang", {"engineer"})
T0 = datetime(2026, 10, 15, 10, 0)


def _run(kit: Any, path: Path, fold: bool) -> list[str]:
    clock = kit.Clock(T0.replace(tzinfo=kit.SH))
    first = kit.make_desk(path, clock, kit.Outbox())
    second = kit.make_desk(path, clock, kit.Outbox())  # another writer of the same file
    for desk in (first, second):
        committer = desk._kernel.committer
        assert committer._folds  # the bundled SQLite store takes the desk's fold
        committer._folds = fold
    for n in range(3):
        first.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id=f"T-{n}")
    clock.now += timedelta(minutes=5)
    first.transition("T-0", "dispatch", actor=DISPATCHER, data={"engineer": "wang"})
    second.transition("T-0", "accept", actor=WANG)  # first's cached T-0 is now stale
    first.transition("T-0", "arrive", actor=WANG)
    first.note("T-1", author="agent:li")
    clock.now += timedelta(hours=3)
    first.tick()
    second.note("T-1", author="agent:wang")
    first.note("T-1", author="agent:li")
    first.assign("T-2", None)
    first.store.close()
    second.store.close()
    with sqlite3.connect(path) as connection:
        return list(connection.iterdump())


def test_the_desk_fold_writes_the_same_rows_as_the_store_fold(tmp_path: Path, kit: Any) -> None:
    folded = _run(kit, tmp_path / "folded.db", fold=True)
    plain = _run(kit, tmp_path / "plain.db", fold=False)
    assert folded == plain
    assert sum('INSERT INTO "events"' in row for row in folded) > 10
