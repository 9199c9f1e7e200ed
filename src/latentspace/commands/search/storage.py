"""Where a search's study lives (SQLite by default, any RDB URL) and the lock that keeps its budget exact."""
from __future__ import annotations

import hashlib
import sys
import time
import warnings
from pathlib import Path

import optuna

from latentspace.errors import LatentspaceError


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and best.json."""
    try:
        import sqlalchemy

        return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


def open_storage(url: str, heartbeat: int | None = None, grace: int | None = None):
    """Optuna's RDBStorage for `url`; every way it can fail becomes one LatentspaceError line."""
    import sqlalchemy
    import sqlalchemy.exc

    try:
        parsed = sqlalchemy.engine.make_url(url)
    except sqlalchemy.exc.ArgumentError:
        raise LatentspaceError(f"--storage {url!r} is not a database URL (e.g. sqlite:////abs/path/study.db or "
                               f"postgresql://user:password@host:5432/dbname)") from None
    backend = parsed.get_backend_name()
    engine_kwargs: dict = {"pool_pre_ping": True}
    if backend == "sqlite":
        engine_kwargs["connect_args"] = {"timeout": 60}  # writers queue instead of failing with "database is locked"
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif backend in ("postgresql", "mysql", "mariadb"):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    shown = safe_url(url)
    try:
        for attempt in range(3):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                                      heartbeat_interval=heartbeat, grace_period=grace)
            except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError,
                    sqlalchemy.exc.OperationalError) as e:
                # two processes creating Optuna's tables in a fresh database at once: the loser tries again
                racing = isinstance(e, sqlalchemy.exc.IntegrityError) or "already exists" in str(e)
                if not racing or attempt == 2:
                    raise
                time.sleep(0.5 * (attempt + 1))
    except sqlalchemy.exc.NoSuchModuleError:
        raise LatentspaceError(f"--storage {shown}: unknown database kind {parsed.drivername!r}") from None
    except ImportError:
        hint = " (pip install 'psycopg[binary]', the latentspace[postgres] extra)" if backend == "postgresql" else ""
        raise LatentspaceError(f"--storage {shown}: the database driver for {parsed.drivername!r} is not "
                               f"installed{hint}") from None
    except sqlalchemy.exc.SQLAlchemyError as e:
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()
        raise LatentspaceError(f"cannot use the database {shown}: {reason[0] if reason else type(e).__name__}") \
            from None
    except Exception as e:  # Optuna's schema check (a database of another Optuna version), ...
        raise LatentspaceError(f"cannot use the database {shown}: {type(e).__name__}: {e}".splitlines()[0]) \
            from None


class BudgetLock:
    """The lock around "count the trials, then create one". A file lock for SQLite (workers on one machine), a
    PostgreSQL advisory lock or a MySQL named lock for a server shared by many machines."""

    def __init__(self, url: str, study_name: str, out: Path):
        import sqlalchemy

        parsed = sqlalchemy.engine.make_url(url)
        self.backend = parsed.get_backend_name()
        self._file = self._engine = self._conn = None
        key = hashlib.sha256(f"latentspace-search:{study_name}".encode()).digest()
        self.key = int.from_bytes(key[:8], "big", signed=True)  # a bigint for pg_advisory_lock
        self.name = f"latentspace:{key.hex()[:40]}"  # MySQL lock names: at most 64 characters
        if self.backend in ("postgresql", "mysql", "mariadb"):
            self._engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool,
                                                    isolation_level="AUTOCOMMIT",
                                                    connect_args={"connect_timeout": 10})
        else:
            import filelock

            db = parsed.database if self.backend == "sqlite" else None
            path = Path(db + ".lock") if db and db != ":memory:" else Path(out) / ".search.lock"
            if self.backend != "sqlite":
                print(f"latentspace: warning: no database lock for {self.backend}; the trial budget is exact only "
                      f"for workers on this machine", file=sys.stderr)
            self._file = filelock.FileLock(str(path))

    def __enter__(self):
        if self._file is not None:
            self._file.acquire()
            return self
        import sqlalchemy

        if self._conn is None:
            self._conn = self._engine.connect()  # one session per worker: the lock is the session's
        if self.backend == "postgresql":
            self._conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
        else:
            self._conn.execute(sqlalchemy.text("SELECT GET_LOCK(:n, -1)"), {"n": self.name})
        return self

    def __exit__(self, *exc):
        if self._file is not None:
            self._file.release()
            return False
        import sqlalchemy

        sql = "SELECT pg_advisory_unlock(:k)" if self.backend == "postgresql" else "SELECT RELEASE_LOCK(:n)"
        self._conn.execute(sqlalchemy.text(sql), {"k": self.key, "n": self.name})
        return False

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()


def load_study_attrs(storage, study_name: str) -> dict:
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        raise LatentspaceError(f"no study {study_name!r} in the database") from None
    return storage.get_study_user_attrs(study_id)
