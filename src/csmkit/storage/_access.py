"""Why SQLite could not write (or open) a database file, in words a user can act on."""

from __future__ import annotations

import os
import sqlite3

__all__ = ["cannot_read", "cannot_write", "is_access_error"]

_READONLY = 8  # SQLITE_READONLY (and its extended codes, e.g. READONLY_CANTINIT)
_CANTOPEN = 14  # SQLITE_CANTOPEN ("unable to open database file")


def is_access_error(exc: sqlite3.Error) -> bool:
    """Whether SQLite failed because it may not open or write the file (not corruption)."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return code & 0xFF in (_READONLY, _CANTOPEN)
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open database file" in text


def cannot_write(path: str, what: str, exc: BaseException, *, read_only: bool) -> str:
    """The message for ``what`` failing on ``path`` because it cannot be written.

    Looks at the file system to say which of the opened mode, the file or its directory
    is read-only, and what to do about it.
    """
    name = os.path.basename(path)
    directory = os.path.dirname(os.path.abspath(path))
    if read_only:
        why = "it was opened read-only (mode=ro)"
        fix = "open it without mode=ro to write to it"
    elif not os.path.isdir(directory):
        why = f"its directory {directory} does not exist"
        fix = "create the directory first"
    elif os.path.exists(path) and not os.access(path, os.W_OK):
        why = "the file is read-only"
        fix = (
            "make it writable (chmod u+w; chattr -i if it is immutable) or copy it to a "
            "writable place; to only read it, open it with sqlite:///…?mode=ro"
        )
    elif not os.access(directory, os.W_OK):
        why = (
            f"its directory {directory} is read-only (SQLite creates {name}, {name}-wal "
            f"and {name}-shm there)"
        )
        fix = "make the directory writable or move the database to a writable directory"
    else:
        why = f"the system refused ({exc})"
        fix = "check the permissions of the file and its directory, and the file system"
    return f"{what}: cannot write {path}: {why}; nothing was written. {fix[0].upper()}{fix[1:]}"


def cannot_read(path: str, exc: BaseException) -> str:
    """The message for a read-only open (``mode=ro``) that SQLite refused."""
    name = os.path.basename(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.access(directory, os.W_OK):
        return (
            f"cannot open {path} read-only: its directory {directory} is read-only and "
            f"SQLite needs {name}-shm beside a WAL database even to read it ({exc}). Copy "
            "the file to a writable directory, or make the directory writable"
        )
    return f"cannot open {path} read-only ({exc}); check the file's permissions"
