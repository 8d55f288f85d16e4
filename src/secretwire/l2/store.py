"""Every Redis command the L2 cache sends, behind one gate that keeps Redis from
ever failing a read.

Each command has a short socket timeout (``timeout``, 0.25 s) and no retry. The
first failure (refused, timed out, an error reply such as ``OOM`` or ``NOAUTH``)
logs one ``WARNING`` and closes the gate for ``retry_after`` seconds: commands then
fail at once with :class:`L2Unavailable`, which the layer answers by reading the
backend. The first command after that is the probe; success logs that Redis is
back. A command is not sent either when the operation's deadline leaves less than
the timeout. redis-py is imported on first use (the ``redis`` extra).

The scripts keep each step to one round trip, for one key or a whole batch:
``read`` (entries with their remaining TTL, their name's epoch and whether a load
holds the lock), ``lock`` (the same, taking each free lock), ``store`` (an entry
written only if its name's epoch did not move while it was loaded, and the lock
released if this caller holds it), ``release`` (compare-and-delete: only the lock's
owner removes it), ``change`` (bump a name's epoch and publish the invalidation) and
``check`` (the environment's key check record: set if absent, else returned).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import deadlines
from .._extras import require_extra
from ..errors import display_url
from ..values import SecretValue
from .errors import L2Unavailable

__all__ = ["Place", "RedisStore", "Slot"]

logger = logging.getLogger("secretwire")
T = TypeVar("T")

# An epoch is a random token per name, never a counter: a name without one (new, or
# its epoch key expired or was evicted) gets a new one before anything is stored
# under it, so losing an epoch key can make entries stale, never revive old ones.
# KEYS: entry, epoch, lock (per key); ARGV: a new epoch, its PX.
_READ = """
local out = {}
for i = 1, #KEYS, 3 do
  out[#out + 1] = redis.call('GET', KEYS[i]) or false
  out[#out + 1] = redis.call('PTTL', KEYS[i])
  local epoch = redis.call('GET', KEYS[i + 1])
  if not epoch then
    redis.call('SET', KEYS[i + 1], ARGV[1], 'PX', ARGV[2])
    epoch = ARGV[1]
  end
  out[#out + 1] = epoch
  out[#out + 1] = redis.call('EXISTS', KEYS[i + 2])
end
return out
"""
# The same, and ARGV[3], ARGV[4]: the lock token and its PX. The fourth value says
# whether this call took the lock: a load that finished since the read is seen, not
# repeated.
_LOCK = _READ.replace(
    "redis.call('EXISTS', KEYS[i + 2])",
    "redis.call('SET', KEYS[i + 2], ARGV[3], 'NX', 'PX', ARGV[4]) and 1 or 0",
)
# KEYS: entry, epoch, lock; ARGV: the epoch seen before the load, the sealed entry
# ('' for none), its PX, the lock token ('' for none), how long the epoch must
# outlive it.
_STORE = """
local stored = 0
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[5]) then
    redis.call('PEXPIRE', KEYS[2], ARGV[5])
  end
  stored = 1
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) == ARGV[4] then
  redis.call('DEL', KEYS[3])
end
return stored
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# KEYS: epoch; ARGV: a new epoch, how long it must outlive the entries, channel, message.
_CHANGE = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('PUBLISH', ARGV[3], ARGV[4])
"""
_CHECK = """
local found = redis.call('GET', KEYS[1])
if found then
  return found
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
"""


@dataclass(frozen=True, slots=True)
class Place:
    """The Redis keys of one (name, version): its entry, its name's epoch, its lock."""

    entry: str
    epoch: str
    lock: str


@dataclass(frozen=True, slots=True)
class Slot:
    """What ``read`` found at a place."""

    sealed: bytes | None
    #: milliseconds the entry has left (negative: no entry)
    pttl: int
    epoch: str
    locked: bool


@dataclass(frozen=True, slots=True)
class Write:
    """One entry to store (``sealed`` ``None``: only release the lock)."""

    place: Place
    sealed: bytes | None
    px: int
    epoch: str


class RedisStore:
    """One Redis endpoint, its client (made on first use, again after a fork) and its
    gate. Counters: ``errors`` (commands that failed), ``bypassed`` (commands not sent:
    gate closed or deadline too close)."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | SecretValue | None = None,
        timeout: float = 0.25,
        retry_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = display_url(url) if "://" in url else "<redis>"
        self.timeout = timeout
        self.retry_after = retry_after
        self._url = url
        self._username = username
        self._password = password
        self._clock = clock
        self._lock = threading.Lock()
        self._client: Any = None
        self._pid = 0
        self._scripts: dict[str, Any] = {}
        self._closed_until = 0.0
        self._failing = False
        self.errors = 0
        self.bypassed = 0

    # -- the gate ------------------------------------------------------------------------
    @property
    def up(self) -> bool:
        """Whether the last command succeeded (or none was sent yet)."""
        return not self._failing

    def reopen(self) -> None:
        """Redis answered another connection: stop skipping it (the next command is
        the probe)."""
        self._closed_until = 0.0

    def _redis(self) -> Any:
        with self._lock:
            if self._client is None or self._pid != os.getpid():
                redis = require_extra("redis", "redis")
                retry = require_extra("redis.retry", "redis").Retry
                backoff = require_extra("redis.backoff", "redis").NoBackoff
                password = self._password
                self._client = redis.Redis.from_url(
                    self._url,
                    username=self._username,
                    password=password.reveal() if isinstance(password, SecretValue) else password,
                    socket_timeout=self.timeout,
                    socket_connect_timeout=self.timeout,
                    retry=retry(backoff(), 0),
                    client_name="secretwire",
                )
                self._pid = os.getpid()
                self._scripts = {
                    name: self._client.register_script(text)
                    for name, text in (
                        ("read", _READ),
                        ("lock", _LOCK),
                        ("store", _STORE),
                        ("release", _RELEASE),
                        ("change", _CHANGE),
                        ("check", _CHECK),
                    )
                }
            return self._client

    def _run(self, what: str, command: Callable[[Any], T]) -> T:
        """``command(client)`` through the gate; :class:`L2Unavailable` when Redis is
        not to be asked now or fails."""
        left = deadlines.remaining()
        if self._clock() < self._closed_until or (left is not None and left < self.timeout):
            with self._lock:
                self.bypassed += 1
            raise L2Unavailable(operation=what, provider="l2", endpoint=self.endpoint)
        redis = require_extra("redis", "redis")
        try:
            result = command(self._redis())
        except (redis.RedisError, OSError) as err:
            failure = type(err).__name__
        else:
            if self._failing:
                self._failing = False
                logger.warning("l2: Redis at %s answers again", self.endpoint)
            return result
        self._fail(what, failure)
        raise L2Unavailable(
            operation=what, provider="l2", endpoint=self.endpoint, detail=failure
        ) from None

    def _fail(self, what: str, failure: str) -> None:
        with self._lock:
            self.errors += 1
            self._closed_until = self._clock() + self.retry_after
            first, self._failing = not self._failing, True
        if first:
            logger.warning(
                "l2: Redis at %s failed in %s (%s); reading the backend directly, "
                "trying Redis again in %g s",
                self.endpoint, what, failure, self.retry_after,
            )  # fmt: skip

    # -- commands ------------------------------------------------------------------------
    def read(self, places: Sequence[Place], keep_ms: int) -> list[Slot]:
        """Each place's entry, its TTL left, its name's epoch (a new one, kept
        ``keep_ms``, if it had none), whether it is locked."""
        return self._slots("read", places, [_token(), keep_ms])

    def lock(self, places: Sequence[Place], keep_ms: int, token: str, ms: int) -> list[Slot]:
        """Take each place's lock that nobody holds (``SET NX PX``, ``token``): what
        :meth:`read` returns, ``locked`` saying whether this call took it."""
        return self._slots("lock", places, [_token(), keep_ms, token, ms])

    def _slots(self, script: str, places: Sequence[Place], args: list[Any]) -> list[Slot]:
        keys = [key for place in places for key in (place.entry, place.epoch, place.lock)]
        reply = self._run(script, lambda _: self._scripts[script](keys=keys, args=args))
        if not isinstance(reply, list) or len(reply) != 4 * len(places):
            self._fail(script, "an unexpected reply")
            raise L2Unavailable(operation=script, provider="l2", endpoint=self.endpoint)
        return [_slot(reply[i : i + 4]) for i in range(0, len(reply), 4)]

    def store(self, writes: Sequence[Write], token: str, keep_ms: int) -> int:
        """Store each entry whose epoch did not move, and release each lock ``token``
        holds; how many entries were stored."""

        def run(client: Any) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            for write in writes:
                place = write.place
                self._scripts["store"](
                    keys=[place.entry, place.epoch, place.lock],
                    args=[write.epoch, write.sealed or b"", write.px, token, keep_ms],
                    client=pipe,
                )
            return list(pipe.execute())

        return sum(1 for stored in self._run("store", run) if stored == 1)

    def release(self, places: Sequence[Place], token: str) -> None:
        """Delete each place's lock if ``token`` still holds it (nobody else's)."""

        def run(client: Any) -> None:
            pipe = client.pipeline(transaction=False)
            for place in places:
                self._scripts["release"](keys=[place.lock], args=[token], client=pipe)
            pipe.execute()

        self._run("release", run)

    def change(self, epoch: str, keep_ms: int, channel: str, message: bytes) -> None:
        """Give a name a new epoch (its entries are stale at once) and publish ``message``."""
        args = [_token(), keep_ms, channel, message]
        self._run("invalidate", lambda _: self._scripts["change"](keys=[epoch], args=args))

    def check(self, key: str, kid: bytes) -> bytes:
        """The key id the check record at ``key`` names (``kid``, if it named none)."""
        found = self._run("check", lambda _: self._scripts["check"](keys=[key], args=[kid]))
        return found if isinstance(found, bytes) else b""

    def ping(self) -> None:
        self._run("ping", lambda client: client.ping())

    def pubsub(self) -> Any:
        """A new pub/sub object (the subscriber's own connection; none is made yet)."""
        return self._redis().pubsub()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None and self._pid == os.getpid():
            client.close()


def _token() -> str:
    return secrets.token_hex(16)


def _slot(raw: list[Any]) -> Slot:
    sealed, pttl, epoch, locked = raw
    return Slot(
        sealed if isinstance(sealed, bytes) else None,
        pttl if isinstance(pttl, int) else -2,
        epoch.decode("ascii", "replace") if isinstance(epoch, bytes) else "",
        locked == 1,
    )
