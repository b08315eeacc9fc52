"""The send-rate limit of an SMTP provider, shared by every worker through the database.

MAIL_RATE_PER_SECOND and MAIL_RATE_PER_HOUR are what the provider takes from us, not
from one process: four workers sending through one server must stay under them together,
or the provider defers, throttles or silently drops what came too fast. Each provider
(the account on MAIL_SERVER:MAIL_PORT) has a row in `send_rates`, changed in short
transactions on a connection of the limiter's own (the session's transaction is not
touched):

- per second, `next_slot` is the next free send time on the database's clock. A worker
  takes a block of slots 1/rate apart in one upsert (`next_slot = max(next_slot, now) +
  block`) and sleeps until each slot before sending, so the slots of all workers never
  overlap and no mail leaves before its slot;
- per hour, `hour` lists what the workers reserved in the last hour. A worker reserves a
  batch's worth before it claims and gives back what the server did not accept once the
  batch is done, so the workers together never have more than MAIL_RATE_PER_HOUR mails
  accepted in any hour. Times here are the tick's `now`, like `sent_at` (`tick --now`
  moves them, as it moves everything else).

With neither limit configured nothing touches the database.
"""

import time
from collections import deque
from datetime import datetime

from sqlalchemy import Double, bindparam, cast, extract, func, select, update

from core.schema import upsert_insert
from core.timeutil import utcnow
from nurture.models import SendRate

RATES = SendRate.__table__
# The sending time a worker takes at once: one database round trip per block rather than
# per mail, so fewer than 40 a second whatever the rate (a block is one mail up to
# 20/s, five at 100/s). Short, because a worker that stalls (its commit waited for another
# writer, the machine was busy) sends what is left of its block at once on waking: the
# provider may see that much above the rate. Slots a worker does not use when its pass
# ends simply pass: at most a block is lost, less than giving it back would cost.
BLOCK_SECONDS = 0.05
HOUR = 3600.0
EPOCH = datetime(1970, 1, 1)


def provider_key(config) -> str:
    """The provider whose limits these are: the server, and the account when there is one
    (providers count per account)."""
    server = f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"
    username = config.get("MAIL_USERNAME")
    return (f"{username}@{server}" if username else server)[:255]


def from_config(config, engine) -> "SendRateLimit":
    """The limit of the provider the app's mail goes through, from its settings."""
    return SendRateLimit(
        engine,
        provider_key(config),
        per_second=config["MAIL_RATE_PER_SECOND"],
        per_hour=config["MAIL_RATE_PER_HOUR"],
    )


def _seconds(moment: datetime) -> float:
    return (moment - EPOCH).total_seconds()


class SendRateLimit:
    """One worker's share of a provider's limits: `wait()` before each send (the
    interface of delivery.deliver's pacer), `reserve()` before a claim and `give_back()`
    after it."""

    def __init__(self, engine, provider: str, *, per_second: float, per_hour: int):
        self.engine = engine
        self.provider = provider
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.block = max(1, int(per_second * BLOCK_SECONDS)) if per_second > 0 else 0
        self.per_hour = max(0, int(per_hour))
        self.slots = deque()  # time.monotonic() of this worker's slots not used yet

    # -- per second ---------------------------------------------------------------

    def wait(self) -> None:
        """Sleep until this worker's next send slot, taking a new block when none is left."""
        if not self.interval:
            return
        if not self.slots:
            clock, slots = self.take_slots()
            # `clock` was read before the reply came, so the slots land here no earlier
            # than on the database's clock.
            received = time.monotonic()
            self.slots.extend(received + (slot - clock) for slot in slots)
        delay = self.slots.popleft() - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def take_slots(self) -> tuple[float, list[float]]:
        """Take the provider's next block of send slots: (the database's clock, the slots
        on that clock), in one upsert that commits at once."""
        span = self.block * self.interval
        postgresql = self.engine.dialect.name == "postgresql"
        if postgresql:
            # The database's clock, so workers on several hosts share one; one value for
            # the whole statement, read before any wait for the row's lock (so the slots
            # may start in the past: then they are used at once, still one after another).
            clock = cast(extract("epoch", func.statement_timestamp()), Double)
            later = func.greatest
        else:
            clock = bindparam("clock", type_=Double)  # SQLite is on this host: same clock
            later = func.max
        statement = (
            upsert_insert(self.engine, RATES)
            .values(provider=self.provider, next_slot=clock + span, hour=[])
            .on_conflict_do_update(
                index_elements=["provider"], set_={"next_slot": later(RATES.c.next_slot, clock) + span}
            )
            .returning(RATES.c.next_slot, clock)
        )
        with self.engine.connect() as connection:
            end, now = connection.execute(statement, {} if postgresql else {"clock": time.time()}).one()
            connection.commit()
        start = end - span
        return now, [start + index * self.interval for index in range(self.block)]

    # -- per hour -----------------------------------------------------------------

    def reserve(self, now: datetime, wanted: int) -> int:
        """How many of `wanted` mails may go at `now` (all of them with no hourly limit);
        they are taken from the hour's budget of all workers until given back."""
        if not self.per_hour or wanted <= 0:
            return max(wanted, 0)
        at = _seconds(now)

        def take(entries: list) -> int:
            # Within an hour either side: a tick whose --now is a little ahead still
            # sends its mails now; one more than an hour away does not hold the rest up.
            used = sum(count for moment, count in entries if abs(moment - at) < HOUR)
            granted = max(0, min(wanted, self.per_hour - used))
            _add(entries, at, granted)
            return granted

        return self._change_hour(now, take)

    def give_back(self, now: datetime, count: int) -> None:
        """Return `count` mails reserved at `now` that the server did not accept.

        Reservations of a worker that crashed are never given back: they expire with the
        hour, so the budget errs on the side of the provider."""
        if not self.per_hour or count <= 0:
            return
        self._change_hour(now, lambda entries: _add(entries, _seconds(now), -count))

    def _change_hour(self, now: datetime, change):
        with self.engine.connect() as connection:
            # The upsert creates the provider's row or locks it until the commit (the
            # write lock on SQLite): workers change the hour one at a time.
            statement = upsert_insert(self.engine, RATES).values(
                provider=self.provider, next_slot=0.0, hour=[]
            )
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["provider"], set_={"provider": statement.excluded.provider}
                )
            )
            where = RATES.c.provider == self.provider
            entries = connection.scalar(select(RATES.c.hour).where(where)) or []
            # Forget what is an hour old, by the tick's time and by the real one (a tick
            # --now far ahead must not wipe what the live workers reserved).
            horizon = min(_seconds(now), _seconds(utcnow())) - HOUR
            entries = [[moment, count] for moment, count in entries if moment > horizon and count > 0]
            result = change(entries)
            connection.execute(update(RATES).where(where).values(hour=entries))
            connection.commit()
        return result


def _add(entries: list, at: float, count: int) -> None:
    """Add `count` (may be negative, never below 0) to the entry at `at`."""
    for entry in entries:
        if entry[0] == at:
            entry[1] = max(0, entry[1] + count)
            break
    else:
        if count > 0:
            entries.append([at, count])
    entries[:] = sorted(entry for entry in entries if entry[1] > 0)
