"""Private PostgreSQL cluster for the Ugene server and test suite.

The cluster is created with the machine's own ``initdb``/``pg_ctl``, listens on a
unix socket only (no TCP) and trusts every local connection, so nothing outside
the socket directory's owner (and root) can reach it.
"""
from __future__ import annotations

import hashlib
import os
import pathlib
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
from typing import Any, Callable
from urllib.parse import quote

from .whole import write_whole

INSTALL_HINT = ("PostgreSQL server binaries (initdb, pg_ctl) not found: install them with "
                "`apt-get install -y postgresql` (Debian/Ubuntu)")
SUPERUSER = "ugene"


class PostgresMissing(RuntimeError):
    pass


def _find_bindir() -> pathlib.Path:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        # Resolve so that psql/postgres are looked up next to the real binaries,
        # not next to a symlink in /usr/local/bin.
        return pathlib.Path(pg_ctl).resolve().parent
    versions = []
    for d in pathlib.Path("/usr/lib/postgresql").glob("*/bin"):
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            versions.append((tuple(int(x) for x in re.findall(r"\d+", d.parent.name)), d))
    if not versions:
        raise PostgresMissing(INSTALL_HINT)
    return max(versions)[1]


def _short_hash(path: pathlib.Path) -> str:
    return hashlib.sha1(str(path).encode()).hexdigest()[:12]


class EmbeddedPostgres:
    def __init__(self, root: pathlib.Path, *, log: Callable[[str], Any] = print,
                 fast: bool = False) -> None:
        self.root = pathlib.Path(root).resolve()
        self.log = log
        self.fast = fast
        self.started_here = False    # whether this object started the server (not found it running)
        self.bindir = _find_bindir()
        # initdb and postgres refuse to run as root, so root delegates to `postgres`.
        self._as: pwd.struct_passwd | None = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self._uid = self._as.pw_uid if self._as else os.geteuid()
        self.cluster = self._locate()
        self.socket_dir = (self.cluster if len(str(self.cluster)) < 80
                           else pathlib.Path("/tmp") / f"ugene-sock-{_short_hash(self.cluster)}")

    # --- where things live -------------------------------------------------
    def _locate(self) -> pathlib.Path:
        pointer = self.root / "LOCATION"
        if pointer.exists() and (kept := pointer.read_text().strip()):
            return pathlib.Path(kept)
        if self._as is None or (self.root / "PG_VERSION").exists():
            return self.root
        for parent in self.root.parents:
            try:
                st = parent.stat()
            except FileNotFoundError:
                continue  # we will create it with the default (traversable) mode
            if not st.st_mode & stat.S_IXOTH and st.st_uid != self._uid:
                # Chmod-ing the operator's directories would widen access to
                # their files, so the cluster moves somewhere postgres can reach.
                tmp = pathlib.Path(tempfile.gettempdir()).resolve()
                return tmp / f"ugene-pg-{_short_hash(self.root)}"
        return self.root

    def _own_dir(self, path: pathlib.Path) -> None:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = os.lstat(path)
        # Shared /tmp: never adopt a symlink or somebody else's directory.
        if not stat.S_ISDIR(st.st_mode) or st.st_uid not in (self._uid, os.geteuid()):
            raise RuntimeError(f"refusing to use {path}: not a directory owned by us")
        if self._as:
            os.chown(path, self._as.pw_uid, self._as.pw_gid)
        os.chmod(path, 0o700)

    # --- subprocesses ------------------------------------------------------
    def _run(self, tool: str, *args: str, as_server: bool = True,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        exe = self.bindir / tool
        if not exe.exists():
            exe = pathlib.Path(shutil.which(tool) or exe)
        # PG* variables (PGPORT, PGDATA, ...) would silently retarget the cluster.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        kw: dict[str, Any] = {}
        if as_server and self._as:
            kw = dict(user=self._as.pw_uid, group=self._as.pw_gid, extra_groups=[])
            env["HOME"] = self._as.pw_dir
        return subprocess.run([str(exe), *args], env=env, cwd="/", input=input,
                              capture_output=True, text=True, **kw)

    def _pid(self) -> int | None:
        try:
            return int((self.cluster / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    @property
    def running(self) -> bool:
        pid = self._pid()
        if pid is None:
            return False
        try:
            # The postmaster chdirs into its data directory; checking that
            # survives PID reuse after a reboot or container restart.
            return pathlib.Path(os.readlink(f"/proc/{pid}/cwd")) == self.cluster
        except PermissionError:
            return False
        except FileNotFoundError:
            if os.path.isdir("/proc/self"):
                return False
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True

    # --- public API --------------------------------------------------------
    def dsn(self, database: str = "ugene") -> str:
        return f"postgresql://{SUPERUSER}@/{quote(database)}?host={quote(str(self.socket_dir))}"

    def start(self) -> str:
        if self.cluster != self.root:
            self.root.mkdir(parents=True, exist_ok=True)
            # Whole: a command starting at the same moment never reads half a path (an empty one would
            # have put the cluster in the working directory).
            write_whole(self.root / "LOCATION", f"{self.cluster}\n".encode())
        self.log(f"embedded postgres: cluster at {self.cluster}, socket in {self.socket_dir}")
        if not (self.cluster / "PG_VERSION").exists():
            self._initdb()
        if not self.running:
            self._start_server()
            self.started_here = True
        self.create_database("ugene")
        return self.dsn()

    def _initdb(self) -> None:
        self._own_dir(self.cluster)
        base = ["-D", str(self.cluster), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8"]
        if self.fast:
            base.append("--no-sync")
        for locale in ("C.UTF-8", "C"):  # C.UTF-8 is missing on some older glibc systems
            res = self._run("initdb", *base, f"--locale={locale}")
            if res.returncode == 0:
                return
        raise RuntimeError(f"initdb failed:\n{res.stdout}\n{res.stderr}")

    def _start_server(self) -> None:
        # A leftover pid/lock file from a dead server makes postgres refuse to
        # start if its PID now belongs to an unrelated process.
        (self.cluster / "postmaster.pid").unlink(missing_ok=True)
        (self.socket_dir / ".s.PGSQL.5432.lock").unlink(missing_ok=True)
        self._own_dir(self.socket_dir)
        opts = ["-c", "listen_addresses=", "-c", f"unix_socket_directories={self.socket_dir}",
                "-c", "port=5432", "-c", "max_connections=200", "-c", "shared_buffers=128MB"]
        if self.fast:
            opts += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off"]
        logfile = self.cluster / "postgres.log"
        # pg_ctl hands -o to a shell, hence the quoting.
        res = self._run("pg_ctl", "start", "-w", "-t", "120", "-D", str(self.cluster),
                        "-l", str(logfile), "-o", shlex.join(opts))
        if res.returncode != 0 or not self.running:
            try:
                tail = "\n".join(logfile.read_text(errors="replace").splitlines()[-20:])
            except OSError:
                tail = "(no log)"
            raise RuntimeError(f"postgres failed to start ({res.stderr.strip()}); "
                               f"last lines of {logfile}:\n{tail}")

    def _psql(self, sql: str, **variables: str) -> subprocess.CompletedProcess[str]:
        args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir),
                "-p", "5432", "-U", SUPERUSER, "-d", "postgres"]
        for k, v in variables.items():
            args += ["-v", f"{k}={v}"]
        return self._run("psql", *args, "-f", "-", as_server=False, input=sql)

    def _db_exists(self, name: str) -> bool:
        res = self._psql("SELECT 1 FROM pg_database WHERE datname = :'name';\n", name=name)
        if res.returncode != 0:
            raise RuntimeError(f"psql failed: {res.stderr.strip()}")
        return res.stdout.strip() == "1"

    def create_database(self, name: str, template: str | None = None) -> None:
        if self._db_exists(name):
            return
        sql = "CREATE DATABASE :\"name\"" + (" TEMPLATE :\"template\"" if template else "") + ";\n"
        res = self._psql(sql, name=name, **({"template": template} if template else {}))
        # A concurrent creator may have won the race; that is success too.
        if res.returncode != 0 and not self._db_exists(name):
            raise RuntimeError(f"CREATE DATABASE {name} failed: {res.stderr.strip()}")

    def stop(self) -> None:
        if self.running:
            res = self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.cluster))
            if res.returncode != 0 and self.running:
                raise RuntimeError(f"pg_ctl stop failed: {res.stderr.strip()}")
        if self.socket_dir != self.cluster:
            try:
                self.socket_dir.rmdir()  # only the empty per-cluster dir in /tmp
            except OSError:
                pass
