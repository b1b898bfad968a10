"""Read-only files and directories are StorageErrors that say so, and what to do.

Permissions do not stop root, so as root the file or directory is made immutable with
``chattr +i`` (which binds root too); elsewhere ``chmod`` is used. Either way the test
first checks that writing really fails and skips if it cannot make a read-only place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from csmkit.errors import StorageError, StoreArgumentError
from csmkit.storage import Customer, SqliteStore, open_store
from csmkit.storage._schema import MIGRATIONS, prepare
from csmkit.testing import created


def _writes(path: Path) -> bool:
    """Whether something can still be written at ``path`` (a directory or a file)."""
    try:
        if path.is_dir():
            probe = path / ".probe"
            probe.write_bytes(b"")
            probe.unlink()
        else:
            with path.open("ab"):
                pass
    except OSError:
        return False
    return True


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make ``path`` genuinely read-only for the block (even for root), then restore it."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None:
            pytest.skip("running as root without chattr: cannot make a read-only place")
        done = subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"chattr +i is not supported here: {done.stderr.decode().strip()}")

        def undo() -> None:
            subprocess.run([chattr, "-i", str(path)], check=True)

    else:
        mode = path.stat().st_mode
        path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))

        def undo() -> None:
            path.chmod(mode)

    try:
        if _writes(path):
            pytest.skip(f"could not make {path} read-only on this system")
        yield
    finally:
        undo()


def _desk(path: Path) -> None:
    with SqliteStore(path) as store:
        store.append("T-1", [created("T-1")], 0)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_file_in_a_read_only_directory(tmp_path: Path) -> None:
    folder = tmp_path / "shelf"
    folder.mkdir()
    with read_only(folder), pytest.raises(StorageError) as info:
        open_store(f"sqlite:///{folder}/desk.db")
    message = str(info.value)
    assert f"cannot write {folder}/desk.db" in message
    assert f"its directory {folder} is read-only" in message
    assert "writable directory" in message
    assert "unable to open" not in message.split(";")[0]
    assert list(folder.iterdir()) == []


def test_existing_file_in_a_read_only_directory(tmp_path: Path) -> None:
    folder = tmp_path / "shelf"
    folder.mkdir()
    _desk(folder / "desk.db")
    before = _digest(folder / "desk.db")
    with read_only(folder):
        with pytest.raises(StorageError, match=r"directory .*shelf is read-only .*desk\.db-wal"):
            SqliteStore(folder / "desk.db")
        with pytest.raises(StorageError, match=r"read-only: its directory .* needs desk\.db-shm"):
            SqliteStore(folder / "desk.db", read_only=True)
    assert _digest(folder / "desk.db") == before


def test_read_only_file_reads_but_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    _desk(path)
    with read_only(path), SqliteStore(path) as store:
        assert store.version("T-1") == 1
        assert store.load("T-1")[0].ticket_id == "T-1"
        with pytest.raises(StorageError) as info:
            store.append("T-2", [created("T-2")], 0)
        message = str(info.value)
        assert message.startswith(f"append to ticket 'T-2': cannot write {path}")
        assert "the file is read-only; nothing was written" in message
        assert "chmod u+w" in message
        assert "mode=ro" in message
        with pytest.raises(StorageError, match="the file is read-only"):
            store.save_customer(Customer("C-1"))
    with SqliteStore(path) as store:
        assert (store.version("T-1"), store.version("T-2")) == (1, 0)


@pytest.mark.parametrize("how", ["url", "keyword", "constructor"])
def test_mode_ro_reads_and_refuses_every_write(tmp_path: Path, how: str) -> None:
    path = tmp_path / "desk.db"
    _desk(path)
    if how == "url":
        store = open_store(f"sqlite:///{path}?mode=ro")
    elif how == "keyword":
        store = open_store(f"SQLITE:///{path}", mode="ro")
    else:
        store = SqliteStore(path, read_only=True)
    with store:
        assert isinstance(store, SqliteStore)
        assert store.read_only
        assert [e.kind for e in store.load("T-1")] == ["created"]
        assert len(store.find_tickets().items) == 1
        with pytest.raises(StorageError, match=r"opened read-only \(mode=ro\); nothing"):
            store.append("T-2", [created("T-2")], 0)
        with pytest.raises(StorageError, match="without mode=ro"):
            store.save_customer(Customer("C-1"))
    with SqliteStore(path) as writer:
        assert not writer.read_only
        assert (writer.version("T-1"), writer.version("T-2")) == (1, 0)
        assert writer.append("T-2", [created("T-2")], 0) == 1


def test_mode_ro_needs_an_existing_current_file(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path}/none.db?mode=ro")
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.db"
    connection = sqlite3.connect(old, isolation_level=None)
    prepare(connection, str(old), MIGRATIONS[:1])
    connection.close()
    before = _digest(old)
    with pytest.raises(StorageError, match=r"schema version 1 and is opened read-only"):
        SqliteStore(old, read_only=True)
    assert _digest(old) == before


def test_bad_mode_options(tmp_path: Path) -> None:
    with pytest.raises(StoreArgumentError, match="mode must be 'ro'"):
        open_store(f"sqlite:///{tmp_path}/a.db?mode=readonly")
    with pytest.raises(StoreArgumentError, match="in-memory"):
        open_store("sqlite://?mode=ro")
    with pytest.raises(StoreArgumentError):
        SqliteStore(tmp_path / "a.db", read_only="yes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
