"""Recording each mail's outcome the moment it is known: one commit per mail, on a
database connection and a thread of the recorder's own, while the sending loop goes on
with the next mail (see Recorder). The session's transaction is never touched."""

import contextlib
import logging
import queue
import threading
import time
from functools import lru_cache

from sqlalchemy import bindparam, func, null, select, text, update
from sqlalchemy.exc import DBAPIError

from nurture.models import Message, Suppression, email_hash

log = logging.getLogger(__name__)
MESSAGES = Message.__table__


@lru_cache(maxsize=32)
def _finish_statement(columns: tuple[str, ...]):
    return (
        update(MESSAGES)
        .where(
            MESSAGES.c.id == bindparam("b_id"),
            MESSAGES.c.claimed_by == bindparam("b_claim"),
            MESSAGES.c.status == "sending",
        )
        .values(lease_until=None, **{column: bindparam(f"v_{column}") for column in columns})
    )


class _Prepared:
    """A Core statement compiled once for a dialect, run on the DBAPI cursor itself.

    The recorder commits on a thread beside the sending loop, and whatever Python it
    runs holds the GIL that the loop needs back after every SMTP reply: SQLAlchemy's
    execute and commit machinery was most of that. The SQL, the parameters' order and
    their type conversions (SQLite's datetime format) are still SQLAlchemy's."""

    def __init__(self, statement, dialect):
        self.compiled = statement.compile(dialect=dialect)
        self.sql = self.compiled.string
        self.positions = self.compiled.positiontup
        self.processors = {
            name: processor
            for bind, name in self.compiled.bind_names.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }

    def parameters(self, values: dict):
        params = self.compiled.construct_params(values)
        for name, processor in self.processors.items():
            params[name] = processor(params[name])
        return [params[name] for name in self.positions] if self.positions else params


@lru_cache(maxsize=64)
def _prepared(statement, dialect) -> _Prepared:
    return _Prepared(statement, dialect)


SYNCHRONOUS_COMMIT = ("on", "off", "local", "remote_write", "remote_apply")
# Between attempts to reach a database that is restarting (see Recorder._commit).
RECONNECT_PAUSE = 0.25
_SUPPRESSED = (
    select(text("1"))
    .select_from(Suppression.__table__)
    .where(Suppression.__table__.c.email_hash == bindparam("hash"))
)


@lru_cache(maxsize=32)
def _in_one_statement(statement):
    """PostgreSQL: an outcome's UPDATE (when there is one) and the suppression check as
    one statement, a data-modifying WITH, for a connection in autocommit: one round
    trip and one commit where BEGIN, UPDATE, SELECT and COMMIT took four. Says how many
    rows the UPDATE changed (NULL without one) and whether the address is suppressed
    (false when no address is checked: the hash is NULL)."""
    found = _SUPPRESSED.exists()
    if statement is None:
        return select(null(), found)
    outcome = statement.returning(MESSAGES.c.id).cte("outcome")
    return select(select(func.count()).select_from(outcome).scalar_subquery(), found)


class Recorder:
    """Records each outcome in its own commit on a database connection of its own (the
    session's transaction is not touched), on a thread of its own.

    `record_later()` starts the commit and returns at once, so the commit of mail N
    runs while mail N+1's envelope and content travel to the server; `settle()` waits
    for it and is called before the final "." that makes the server accept mail N+1.
    Mail N's outcome is therefore committed before mail N+1 is delivered, and a crash
    repeats at most the mail in flight. The same transaction checks whether mail N+1's
    address was suppressed meanwhile (suppression is checked at send time, not only
    when the batch was claimed).

    Why a thread: SMTP's four round trips per mail leave the sending thread waiting on
    the socket, and both sqlite3 and psycopg release the GIL while the database works,
    so the commit costs the sending loop only the hand-over. (A recorder thread that
    overlapped the commit with rendering instead was measured slower: rendering holds
    the GIL.)

    On PostgreSQL the connection may use another synchronous_commit
    (NURTURE_SYNCHRONOUS_COMMIT): "off" skips the wait for the WAL flush, which a worker
    crash cannot undo; only a crash of the database server itself could lose the last
    fraction of a second of marks, and those mails would be sent again."""

    def __init__(self, engine, *, synchronous_commit: str = "on", reconnect_seconds: float = 0):
        if synchronous_commit not in SYNCHRONOUS_COMMIT:
            raise ValueError(f"NURTURE_SYNCHRONOUS_COMMIT must be one of {', '.join(SYNCHRONOUS_COMMIT)}")
        self.engine = engine
        self.reconnect_seconds = reconnect_seconds
        self.synchronous_commit = synchronous_commit
        self.one_statement = engine.dialect.name == "postgresql"
        self.connection = None
        # One job at a time: a queue to the thread, and a lock it releases when done
        # (a ThreadPoolExecutor's futures cost more per mail than the hand-over needs).
        self._jobs = queue.SimpleQueue()
        self._done = threading.Lock()
        self._done.acquire()
        self._in_flight = False
        self._outcome = (True, False)
        self._checked = None  # the address the outcome in flight also checks
        self._thread = None

    def _connect(self):
        connection = self.engine.connect()
        if self.one_statement:
            # Each outcome is one statement, atomic on its own: no BEGIN and COMMIT round
            # trips around it. SQLAlchemy restores the isolation level when the
            # connection goes back to the pool.
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        if self.engine.dialect.name == "postgresql" and self.synchronous_commit != "on":
            try:
                connection.exec_driver_sql(f"SET synchronous_commit = {self.synchronous_commit}")
                connection.commit()
            except BaseException:
                connection.close()
                raise
        return connection

    def record(self, message, **values) -> None:
        """Commit an outcome and wait for it; raises a database error."""
        self.record_later(message, **values)
        self.settle()

    def record_later(self, message, *, check_address: str | None = None, **values) -> None:
        """Start committing an outcome (only if the claim is still ours) and, when
        `check_address` is given, looking up whether it is suppressed now."""
        self.settle()
        params = {f"v_{column}": value for column, value in values.items()}
        params.update(b_id=message.id, b_claim=message.claimed_by)
        statement = _finish_statement(tuple(sorted(values)))
        check = email_hash(check_address) if check_address else None
        self._checked = check_address
        self._submit(lambda: self._commit(statement, params, check))

    def suppressed(self, address: str) -> bool:
        """Settle the outcome in flight (raising its error) and say whether `address` is
        suppressed now: from that outcome's transaction when it was asked to check this
        address, otherwise by a read of its own."""
        checked, self._checked = self._checked, None
        suppressed = self.settle()
        if checked == address:
            return suppressed
        self._submit(lambda: self._commit(None, None, email_hash(address)))
        return self.settle()

    def settle(self) -> bool:
        """Wait for the outcome in flight; raises its database error. True when the
        address it was asked to check is suppressed."""
        if not self._in_flight:
            return False
        self._done.acquire()
        self._in_flight = False
        ok, value = self._outcome
        if not ok:
            raise value
        return value

    def _submit(self, job) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="nurture-recorder", daemon=True)
            self._thread.start()
        self._in_flight = True
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._outcome = (True, job())
            except BaseException as exc:  # noqa: BLE001 - raised on the sending thread by settle()
                self._outcome = (False, exc)
            finally:
                self._done.release()

    def _commit(self, statement, params: dict | None, check: str | None) -> bool:
        """Run the outcome's UPDATE (if any) and the suppression check in one commit;
        again on a new connection when the connection was lost, at once and then every
        RECONNECT_PAUSE for up to `reconnect_seconds` (the claim's lease): a database
        restart takes seconds, and an outcome not written makes the mail the server
        accepted go again when the lease runs out. Past the lease another worker may
        hold the row, and the UPDATE (guarded by the claim) would change nothing."""
        deadline = time.monotonic() + self.reconnect_seconds
        tries = 0
        while True:
            try:
                return self._transaction(statement, params, check)
            except (DBAPIError, self.engine.dialect.loaded_dbapi.Error) as exc:
                if not self._lost(exc):
                    raise
                self._drop_connection()
                tries += 1
                if tries > 1 and time.monotonic() >= deadline:
                    raise
                if tries > 1:
                    time.sleep(RECONNECT_PAUSE)

    def _lost(self, exc) -> bool:
        """Whether `exc` says the database is out of reach (not that the statement failed)."""
        if self.connection is None:
            return True  # connecting failed
        if isinstance(exc, DBAPIError):
            return exc.connection_invalidated
        dbapi_connection = self.connection.connection.dbapi_connection
        return self.engine.dialect.is_disconnect(exc, dbapi_connection, None)

    def _drop_connection(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                self.connection.invalidate()
                self.connection.close()
        self.connection = None

    def _transaction(self, statement, params: dict | None, check: str | None) -> bool:
        if self.connection is None:
            self.connection = self._connect()
        dbapi_connection = self.connection.connection.dbapi_connection
        cursor = dbapi_connection.cursor()
        dialect = self.engine.dialect
        try:
            rowcount, suppressed = None, False
            if self.one_statement:
                prepared = _prepared(_in_one_statement(statement), dialect)
                cursor.execute(prepared.sql, prepared.parameters({**(params or {}), "hash": check}))
                rowcount, suppressed = cursor.fetchone()  # autocommit: already committed
            else:
                if statement is not None:
                    prepared = _prepared(statement, dialect)
                    cursor.execute(prepared.sql, prepared.parameters(params))
                    rowcount = cursor.rowcount
                if check is not None:
                    prepared = _prepared(_SUPPRESSED, dialect)
                    cursor.execute(prepared.sql, prepared.parameters({"hash": check}))
                    suppressed = cursor.fetchone() is not None
                dbapi_connection.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                dbapi_connection.rollback()
            raise
        finally:
            cursor.close()
        if rowcount == 0:
            log.warning(
                "message %s: its claim was taken over, outcome %r not recorded",
                params["b_id"],
                params.get("v_status"),
            )
        return bool(suppressed)

    def close(self) -> None:
        """Settle the outcome in flight (raising its error), then give the connection back."""
        try:
            self.settle()
        finally:
            if self._thread is not None:
                self._submit(self._disconnect)
                with contextlib.suppress(Exception):
                    self.settle()
                self._jobs.put(None)
                self._thread.join()
                self._thread = None

    def _disconnect(self) -> None:
        if self.connection is None:
            return
        if self.engine.dialect.name == "postgresql" and self.synchronous_commit != "on":
            # The pool must not hand this setting to the next user of the connection.
            try:
                self.connection.exec_driver_sql("RESET synchronous_commit")
                self.connection.commit()
            except Exception:  # noqa: BLE001 - a connection that cannot reset is thrown away
                self.connection.invalidate()
        self.connection.close()
        self.connection = None
