"""A private PostgreSQL server for the record store's tests, from the machine's own binaries.

``PostgresServer`` runs Debian's server binaries (``OSOM_PG_BIN``, exported by the Makefile;
else the newest ``/usr/lib/postgresql/*/bin``; else wherever ``pg_ctl`` is on the PATH) on a
cluster in a temporary folder, listening on 127.0.0.1 on a free port, with trust
authentication for the ``postgres`` superuser::

    with PostgresServer() as server:
        engine = create_engine(server.new_database("test_outbox"))

``kill()`` SIGKILLs the postmaster and all its backends at once (the database host going down:
clients see their connections drop and new ones refused) and ``start()`` brings it back on the
same port after crash recovery, with every committed transaction still there.

initdb and postgres refuse to run as root. Run as root (containers, CI), every binary runs as
the unprivileged ``postgres`` system user (Debian's package creates it), or ``nobody`` where
there is none, and the temporary folder belongs to that user.

The postmaster is started directly as a child of this process, not through ``pg_ctl start``:
pg_ctl detaches the server, and a detached server that is killed stays a zombie wherever PID 1
reaps no orphans (this machine, many containers), and its stale lock file then blocks the
restart. As a child it is reaped by ``kill()`` and ``stop()``.

Durability settings: ``fsync=off`` and ``full_page_writes=off`` only matter when the operating
system crashes, never when server processes are killed, so they are safe for ``kill()``.
``synchronous_commit`` stays on: turned off, a commit returns before its WAL leaves the
server's shared memory, and a ``kill()`` right after would lose it.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

USER = "postgres"  # the cluster's superuser (initdb -U)
HOST = "127.0.0.1"
DEFAULT_DATABASE = "osom"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
SERVER_OPTIONS = ("fsync=off", "full_page_writes=off")
# A Unix socket's path is limited to 107 bytes; "/.s.PGSQL.NNNNN" takes 15 of them.
MAX_SOCKET_DIR = 90
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def find_binaries() -> Path:
    """The folder of PostgreSQL's server binaries (initdb, postgres, pg_ctl)."""
    configured = os.environ.get("OSOM_PG_BIN")
    candidates = [Path(configured)] if configured else []
    if not configured:
        installed = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
        candidates += [Path(p) for p in installed]
        on_path = shutil.which("pg_ctl")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "postgres", "pg_ctl")):
            return folder
    where = (
        f"OSOM_PG_BIN={configured} holds no initdb, postgres and pg_ctl"
        if configured
        else "OSOM_PG_BIN is not set, and neither /usr/lib/postgresql/*/bin nor the folder of "
        "a pg_ctl on the PATH holds initdb, postgres and pg_ctl"
    )
    raise RuntimeError(
        f"PostgreSQL's server binaries were not found ({where}): install Debian's postgresql "
        "package (`make test` does) or set OSOM_PG_BIN to the folder holding them"
    )


def _version(folder: str) -> tuple[int, ...]:
    """/usr/lib/postgresql/15/bin -> (15,), so that 16 sorts above 9.6."""
    return tuple(int(n) for n in re.findall(r"\d+", Path(folder).parent.name))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError(
        "running as root, and there is neither a postgres nor a nobody user to run PostgreSQL "
        "as (initdb refuses to run as root): install Debian's postgresql package, which "
        "creates the postgres user"
    )


def _reachable_by(folder: Path, account: pwd.struct_passwd) -> bool:
    """Whether ``account`` may enter every folder above ``folder`` (a TMPDIR inside /root, say,
    is open to root only)."""
    for parent in folder.resolve().parents:
        mode = parent.stat()
        if mode.st_uid == account.pw_uid:
            allowed = bool(mode.st_mode & 0o100)
        elif mode.st_gid == account.pw_gid:
            allowed = bool(mode.st_mode & 0o010)
        else:
            allowed = bool(mode.st_mode & 0o001)
        if not allowed:
            return False
    return True


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, for the length of a test session.

    ``start()`` (or entering the ``with`` block) creates the cluster and the database ``osom``
    the first time and only starts the server afterwards; ``url()`` and ``new_database()`` give
    SQLAlchemy URLs (``postgresql+psycopg://postgres@127.0.0.1:PORT/NAME``); ``kill()``
    simulates the database going down; ``stop()`` shuts down and deletes the folder.
    """

    def __init__(self, binaries: Path | None = None) -> None:
        self.binaries = binaries or find_binaries()
        self.account = _unprivileged_user() if os.geteuid() == 0 else None
        self.port = 0
        self.folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)

    # -- life cycle ----------------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def data(self) -> Path:
        return self._folder / "data"

    @property
    def log_path(self) -> Path:
        return self._folder / "postgresql.log"

    def start(self) -> None:
        """Create the cluster the first time; start the server on its port (again after
        ``kill()``, when it first recovers from the crash)."""
        if self.running:
            return
        if self.folder is not None:
            self._start_server()
            return
        try:
            self._create_cluster()
            for attempt in itertools.count(1):
                self.port = free_port()
                try:
                    self._start_server()
                    break
                except RuntimeError:
                    # Another process took the free port between the probe and the bind.
                    if attempt == 3 or "could not bind" not in self.log():
                        raise
            self._create_database(DEFAULT_DATABASE)
        except BaseException:
            self.stop()  # nothing left running, no folder left behind
            raise

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at once, as if the host had died."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        # Stopped, the postmaster cannot fork a replacement for a backend killed before it.
        os.kill(process.pid, signal.SIGSTOP)
        backends = _children(process.pid)
        for pid in [*backends, process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait()
        # The orphaned backends must be gone before the next start: one still attached to the
        # old shared memory would make the new postmaster refuse to start.
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(_alive(pid) for pid in backends):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL backends {backends} outlived SIGKILL")
            time.sleep(0.01)

    def stop(self) -> None:
        """Shut down (``pg_ctl stop -m fast``) and delete the cluster's folder; safe to call
        again, and after ``kill()``."""
        process = self._process
        if process is not None and process.poll() is None:
            stopped = self._run(
                "pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w",
                "-t", str(int(STOP_TIMEOUT)), check=False,
            )  # fmt: skip
            try:
                process.wait(timeout=STOP_TIMEOUT if stopped.returncode == 0 else 1)
            except subprocess.TimeoutExpired:
                self.kill()
        if process is not None:
            process.wait()
        self._process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    # -- databases -----------------------------------------------------------------------------

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """A SQLAlchemy URL of one of the server's databases (psycopg 3, trust, no password)."""
        return f"postgresql+psycopg://{USER}@{HOST}:{self.port}/{database}"

    def new_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a database (named ``test_N`` unless ``name`` is given; the name must be new)
        and return its URL. It is empty, or a copy of the database ``template``: migrate one
        database once, then copy it for each test (nobody may be connected to the template)."""
        name = name or f"test_{next(self._names)}"
        self._create_database(name, template)
        return self.url(name)

    def log(self) -> str:
        """The server's log so far (to explain a failure)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    # -- inside --------------------------------------------------------------------------------

    @property
    def _folder(self) -> Path:
        if self.folder is None:
            raise RuntimeError("the PostgreSQL server has not been started")
        return self.folder

    def _create_cluster(self) -> None:
        parent = None
        if self.account and not _reachable_by(Path(tempfile.gettempdir()) / "x", self.account):
            parent = "/tmp"  # TMPDIR is private to root: the server's user could not enter it
        self.folder = Path(tempfile.mkdtemp(prefix="osom-pg-", dir=parent))
        if self.account:
            os.chown(self.folder, self.account.pw_uid, self.account.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def _start_server(self) -> None:
        folder = str(self._folder)
        sockets = folder if len(folder) <= MAX_SOCKET_DIR else ""  # "": TCP only
        command = [
            str(self.binaries / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-k", sockets, "-c", f"listen_addresses={HOST}",
        ]  # fmt: skip
        for option in SERVER_OPTIONS:
            command += ["-c", option]
        with self.log_path.open("ab") as log:
            # A session of its own: a Ctrl-C in the terminal reaches pytest, which stops the
            # server in order, and not the server directly.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=folder,
                env=self._environment(),
                start_new_session=True,
                user=self._uid,
                group=self._gid,
                extra_groups=self._groups,
            )
        if self.account:
            os.chown(self.log_path, self.account.pw_uid, self.account.pw_gid)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"PostgreSQL did not start:\n{self.log()[-3000:]}")
            try:
                with psycopg.connect(self._conninfo("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(
                        f"PostgreSQL did not accept connections within {START_TIMEOUT:.0f} s:\n"
                        f"{self.log()[-3000:]}"
                    ) from None
                time.sleep(0.02)

    def _create_database(self, name: str, template: str | None = None) -> None:
        for given in (name, template):
            if given is not None and not DATABASE_NAME.fullmatch(given):
                raise ValueError(f"{given!r} is not a plain lower-case database name")
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as connection:
            if connection.info.server_version >= 150000:
                # Copying the files is twice as fast as WAL_LOG (15's default) for small
                # databases; its checkpoints cost nothing with fsync off.
                statement += sql.SQL(" STRATEGY = FILE_COPY")
            connection.execute(statement)

    def _conninfo(self, database: str) -> str:
        return f"host={HOST} port={self.port} user={USER} dbname={database}"

    def _run(self, binary: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.binaries / binary), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=self._folder,
            env=self._environment(),
            check=False,
            timeout=START_TIMEOUT,
            user=self._uid,
            group=self._gid,
            extra_groups=self._groups,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{binary} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    # Popen's arguments that drop root to the unprivileged user, root's groups included; None
    # (Popen's defaults) when not root.
    @property
    def _uid(self) -> int | None:
        return self.account.pw_uid if self.account else None

    @property
    def _gid(self) -> int | None:
        return self.account.pw_gid if self.account else None

    @property
    def _groups(self) -> list[int] | None:
        return [] if self.account else None

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self.account:
            env.update(HOME=self.account.pw_dir, USER=self.account.pw_name)
            env["LOGNAME"] = self.account.pw_name
        return env


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie does not: it holds no memory any more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"
