"""A throwaway PostgreSQL server for the tests (unix socket only, in a temp directory).

Found in this order: ``CSMKIT_TEST_POSTGRES_URL`` (an existing server's superuser URL;
nothing is started), else the server binaries of ``CSMKIT_PG_BINDIR``,
``/usr/lib/postgresql/<newest>/bin`` or ``initdb`` on ``PATH``: ``initdb`` a cluster
in a temp directory, start it on a unix socket there (no TCP port), stop and delete it
at the end. ``initdb`` refuses to run as root, so as root the cluster belongs to the
``nobody`` user. The password-authentication tests get a role with a password
(``scram-sha-256``); the superuser connects through the socket without one.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["PgServer", "in_ci", "start_server"]

DATABASE = "csmkit"
PASSWORD_ROLE = "desk_user"
PASSWORD = "s3cr3t-Pw_17"  # only for the throwaway server


def in_ci() -> bool:
    """Whether the tests run in CI (``CI=true``): then a missing server is an error."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _bindir() -> Path | None:
    given = os.environ.get("CSMKIT_PG_BINDIR")
    candidates = [given] if given else []
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


class PgServer:
    """A running server: URLs for new, empty stores and an admin connection."""

    def __init__(self, admin_url: str, *, socket_dir: str | None, stop: Any = None) -> None:
        self.admin_url = admin_url
        self.socket_dir = socket_dir
        self._stop = stop
        self._schemas = itertools.count(1)
        self.password_ready = False

    def admin(self) -> Any:
        """An autocommit superuser connection to the test database."""
        import psycopg

        return psycopg.connect(self.admin_url, autocommit=True)

    def url(self, *, user: str = "postgres", password: str | None = None, **query: str) -> str:
        """A URL of the test database (on the socket, when this run started the server)."""
        if self.socket_dir is None:
            base = self.admin_url
        else:
            auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
            base = f"postgresql://{auth}@/{DATABASE}?host={quote(self.socket_dir, safe='')}"
        extra = "&".join(f"{key}={quote(value, safe='')}" for key, value in query.items())
        if not extra:
            return base
        return base + ("&" if "?" in base else "?") + extra

    def new_schema(self) -> str:
        """A fresh schema name: each store of a test gets its own tables."""
        return f"t{os.getpid()}_{next(self._schemas)}"

    def password_url(self, password: str = PASSWORD, **query: str) -> str:
        """A URL of a role that must authenticate with a password."""
        if self.socket_dir is None:
            raise RuntimeError("password tests need the throwaway server")
        if not self.password_ready:
            with self.admin() as connection:
                connection.execute(
                    f"CREATE ROLE {PASSWORD_ROLE} LOGIN PASSWORD '{PASSWORD}' CREATEDB"
                )
                connection.execute(f"GRANT ALL ON DATABASE {DATABASE} TO {PASSWORD_ROLE}")
            self.password_ready = True
        return self.url(user=PASSWORD_ROLE, password=password, **query)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None


def _run(command: list[str], user: str | None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, user=user, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{Path(command[0]).name} failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-800:]}"
        )


def start_server() -> PgServer:
    """Start (or find) a server; raises ``RuntimeError`` saying why it cannot."""
    given = os.environ.get("CSMKIT_TEST_POSTGRES_URL")
    if given:
        return PgServer(given, socket_dir=None)
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError(
            "no PostgreSQL server binaries (initdb, pg_ctl) found in CSMKIT_PG_BINDIR, "
            "/usr/lib/postgresql/*/bin or PATH; install the 'postgresql' package or set "
            "CSMKIT_TEST_POSTGRES_URL"
        )
    user = None
    root = tempfile.mkdtemp(prefix="csmkit-pg-")
    if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to nobody
        user = "nobody"
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    data = os.path.join(root, "data")
    ctl = str(bindir / "pg_ctl")

    def stop() -> None:
        subprocess.run(
            [ctl, "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
            user=user,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)

    try:
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            user,
        )
        Path(data, "pg_hba.conf").write_text(
            "local all postgres trust\nlocal all all scram-sha-256\n", encoding="utf-8"
        )
        options = (
            f"-k {root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=300"
        )
        _run([ctl, "-D", data, "-o", options, "-w", "-t", "60", "-l", f"{root}/log", "start"], user)
        import psycopg

        socket_url = f"postgresql://postgres@/postgres?host={quote(root, safe='')}"
        with psycopg.connect(socket_url, autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
    except BaseException:
        log = Path(root, "log")
        detail = log.read_text(encoding="utf-8", errors="replace")[-800:] if log.exists() else ""
        stop()
        if detail:
            raise RuntimeError(f"the PostgreSQL server did not start: {detail}") from None
        raise
    admin = f"postgresql://postgres@/{DATABASE}?host={quote(root, safe='')}"
    return PgServer(admin, socket_dir=root, stop=stop)
