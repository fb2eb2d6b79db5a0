"""The registry in a NATS JetStream key-value bucket, on the broker microshop already runs.

    registry = NatsRegistry(["nats://127.0.0.1:4222"], prefix="microshop", ttl=10)
    await registry.register(Instance.new("orders", "127.0.0.1", 8003))

One bucket, `<prefix>_registry`, whose max age is the TTL: a key that is not put
again within the TTL is dropped by the server. Keys are `<service>.<instance>`,
values the instance as JSON; a heartbeat puts the whole value again (so it also
brings back a key the server dropped, or a bucket a new server never had).

NATS tells watchers about puts and deletes but not about keys aged out by max age
(2.9 never does; 2.11+ only with limit markers, which 2.9 lacks), so `watch`
keeps each key's last update time and drops it on its own TTL timer, but only
while the bucket answers: a stalled registry is not a dead fleet.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator

import orjson
import structlog
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, RawStreamMsg
from nats.js.errors import BadRequestError, NotFoundError
from nats.js.kv import KeyValue

from microshop.chassis.backoff import backoff
from microshop.chassis.nats_connection import connect_to_nats
from microshop.chassis.registry.model import (
    TTL_S,
    Instance,
    RegistryError,
    membership,
    ordered,
)

log = structlog.get_logger()

REQUEST_TIMEOUT_S = 2.0
CONNECT_BUDGET_S = 3.0
# How often a quiet watch wakes to expire keys and notice a reconnection.
WATCH_TICK_S = 0.25
_DELETED = ("DEL", "PURGE")
# A key as read: its instance (None: deleted), revision and age in seconds.
_Read = tuple[Instance | None, int, float]


class NatsRegistry:
    def __init__(
        self,
        urls: list[str],
        *,
        prefix: str = "microshop",
        ttl: float = TTL_S,
        replicas: int = 1,
    ) -> None:
        self.urls, self.ttl, self.replicas = urls, ttl, replicas
        self.bucket = f"{prefix}_registry"
        self._nc: Client | None = None
        self._kv: KeyValue | None = None
        self._lock = asyncio.Lock()
        # Bumped on every reconnection: a watch then subscribes again, because the
        # server may have restarted and forgotten its consumer.
        self._epoch = 0
        self._connected = False
        self._closed = False

    # -- connection -------------------------------------------------------------

    async def _bucket(self) -> KeyValue:
        async with self._lock:
            try:
                if self._nc is None:
                    # Bounded: with endless reconnects nats-py retries a first connect
                    # forever, and a caller must hear that the registry is away.
                    self._nc = await asyncio.wait_for(self._connect(), CONNECT_BUDGET_S)
                    self._connected = True
                if self._kv is None:
                    self._kv = await self._declare(self._nc)
                return self._kv
            except (Exception, TimeoutError) as exc:
                raise RegistryError(f"registry at {self.urls} unreachable: {exc!r}") from exc

    async def _connect(self) -> Client:
        return await connect_to_nats(
            self.urls,
            on_disconnect=self._disconnected,
            on_reconnect=self._reconnected,
            purpose="registry",
        )

    async def _declare(self, nc: Client) -> KeyValue:
        js = nc.jetstream(timeout=REQUEST_TIMEOUT_S)
        config = KeyValueConfig(bucket=self.bucket, ttl=self.ttl, history=1, replicas=self.replicas)
        try:
            return await js.create_key_value(config)
        except BadRequestError as refused:
            # Someone made it with another TTL or replica count: share theirs rather
            # than change it under every other instance.
            try:
                kv = await js.key_value(self.bucket)
            except Exception:
                raise refused from None  # no bucket: the config itself was refused
            theirs = (await kv.status()).ttl
            log.warning("registry bucket has another TTL", bucket=self.bucket, ttl=theirs)
            self.ttl = theirs or self.ttl
            return kv

    async def _disconnected(self) -> None:
        self._connected = False

    async def _reconnected(self) -> None:
        self._connected = True
        self._epoch += 1

    async def _call(self, key: str, value: bytes | None = None) -> None:
        kv = await self._bucket()
        try:
            await (kv.delete(key) if value is None else kv.put(key, value))
        except Exception as exc:
            self._kv = None  # maybe a new server without the bucket: declare it again
            raise RegistryError(f"registry {'put' if value else 'delete'} {key}: {exc!r}") from exc

    # -- the contract -----------------------------------------------------------

    async def register(self, instance: Instance) -> None:
        await self._call(instance.key, orjson.dumps(instance.to_json()))

    heartbeat = register  # the whole value again: that also restores a dropped key

    async def deregister(self, instance: Instance) -> None:
        await self._call(instance.key)

    async def instances(self, service: str | None = None) -> list[Instance]:
        snapshot = await self._snapshot(service)
        # The server drops a key at its max age, checked on its own schedule: the
        # age read here is exact, so a silent instance is gone at its TTL.
        return ordered(
            inst for inst, _, age in snapshot.values() if inst is not None and age <= self.ttl
        )

    async def _snapshot(self, service: str | None) -> dict[str, _Read]:
        """key -> (instance or None if deleted, revision, age in seconds), read from
        the stream itself. Not through a KV watcher: nats-py may hand a watcher its
        "no more values" marker before the values (seen here about once in 300
        listings), which would make a live instance look gone."""
        await self._bucket()
        assert self._nc is not None
        js = self._nc.jetstream(timeout=REQUEST_TIMEOUT_S)
        stream, prefix = f"KV_{self.bucket}", f"$KV.{self.bucket}."
        try:
            info = await js.stream_info(stream, subjects_filter=prefix + _pattern(service))
            subjects = list(info.state.subjects or {})
            messages = await asyncio.gather(*(_last(js, stream, s) for s in subjects))
        except Exception as exc:
            self._kv = None  # maybe a new server without the bucket
            raise RegistryError(f"reading the registry failed: {exc!r}") from exc
        now = time.time()
        found: dict[str, _Read] = {}
        for subject, msg in zip(subjects, messages, strict=True):
            if msg is None or msg.seq is None:
                continue  # aged out between the listing and the read
            key = subject.removeprefix(prefix)
            op = (msg.headers or {}).get("KV-Operation")
            instance = None if op in _DELETED else _decode(key, msg.data)
            age = now - msg.time.timestamp() if msg.time else 0.0
            found[key] = (instance, msg.seq, age)
        return found

    async def watch(self, service: str | None = None) -> AsyncGenerator[list[Instance], None]:
        # key -> (instance, time.monotonic() of its last update)
        table: dict[str, tuple[Instance, float]] = {}
        shown: list[Instance] | None = None
        failures = 0
        stalled = False
        while not self._closed:
            try:
                kv = await self._bucket()
                epoch = self._epoch
                # Subscribe first, then read: nothing put in between is missed, and
                # the revisions tell which updates the read already holds.
                watcher = await kv.watch(_pattern(service))
            except Exception as exc:
                failures += 1
                self._kv = None  # a new server may lack the bucket
                log.warning("registry watch cannot subscribe", error=repr(exc))
                await asyncio.sleep(backoff(failures, cap=self.ttl / 2, jitter=True))
                continue
            try:
                try:
                    snapshot = await self._snapshot(service)
                except RegistryError as exc:
                    failures += 1
                    log.warning("registry watch cannot read", error=str(exc))
                    await asyncio.sleep(backoff(failures, cap=self.ttl / 2, jitter=True))
                    continue
                failures = 0
                table, revisions = self._merge(table, snapshot)
                while self._epoch == epoch and not self._closed:
                    # Away from the server, or with the bucket stalled (a JetStream
                    # cluster electing a leader), nothing can refresh a key: keep the
                    # table rather than drop every instance at once.
                    if self._connected and self._stale(table):
                        if await self._answering():
                            if stalled:
                                # Back from a stall: every instance gets one more
                                # TTL to heartbeat, as after a resubscription.
                                table = {k: (i, time.monotonic()) for k, (i, _) in table.items()}
                                stalled = False
                            self._expire(table)
                        else:
                            stalled = True
                    live = ordered(inst for inst, _ in table.values())
                    if shown is None or membership(live) != membership(shown):
                        shown = live
                        yield live
                    try:
                        entry = await _next(watcher, WATCH_TICK_S)
                    except NatsTimeout:
                        continue  # a tick: time to expire
                    if entry is None or (entry.revision or 0) <= revisions.get(entry.key, 0):
                        continue  # the end-of-replay marker, or already in the read
                    revisions[entry.key] = entry.revision or 0
                    instance = (
                        None if entry.operation in _DELETED else _decode(entry.key, entry.value)
                    )
                    if instance is None:
                        table.pop(entry.key, None)
                    else:
                        table[entry.key] = (instance, time.monotonic())
            finally:
                await _stop(watcher)

    def _merge(
        self, table: dict[str, tuple[Instance, float]], snapshot: dict[str, _Read]
    ) -> tuple[dict[str, tuple[Instance, float]], dict[str, int]]:
        """The new table from a fresh read, and each key's revision in it."""
        now = time.monotonic()
        # Keys the read lacks (a resubscription after an outage) get one more TTL
        # to show up: their instances put them again within a heartbeat.
        merged = {key: (inst, now) for key, (inst, _) in table.items() if key not in snapshot}
        for key, (instance, _, age) in snapshot.items():
            if instance is not None:
                # Count from when it was put (server clock), bounded so a skewed
                # clock can neither make it older than the server keeps it nor
                # younger than now.
                merged[key] = (instance, now - min(max(age, 0.0), self.ttl))
        return merged, {key: revision for key, (_, revision, _) in snapshot.items()}

    def _stale(self, table: dict[str, tuple[Instance, float]]) -> bool:
        cutoff = time.monotonic() - self.ttl
        return any(seen < cutoff for _, seen in table.values())

    async def _answering(self) -> bool:
        """Whether the bucket's stream answers now (it has a leader)."""
        if self._nc is None:
            return False
        try:
            js = self._nc.jetstream(timeout=REQUEST_TIMEOUT_S)
            await js.stream_info(f"KV_{self.bucket}")
            return True
        except Exception:
            log.info("registry bucket not answering: keeping the instances", bucket=self.bucket)
            return False

    def _expire(self, table: dict[str, tuple[Instance, float]]) -> None:
        cutoff = time.monotonic() - self.ttl
        for key in [k for k, (_, seen) in table.items() if seen < cutoff]:
            del table[key]

    async def close(self) -> None:
        """Closes the connection; running watches end."""
        self._closed = True
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc, self._kv = None, None
        self._connected = False

    async def delete_bucket(self) -> None:
        """Removes the whole bucket (tests; cleaning up a shared server)."""
        await self._bucket()
        assert self._nc is not None
        await self._nc.jetstream(timeout=REQUEST_TIMEOUT_S).delete_key_value(self.bucket)
        self._kv = None


def _decode(key: str, value: bytes | None) -> Instance | None:
    """The instance in a value; None for an empty value or one we cannot read."""
    if not value:
        return None
    try:
        return Instance.from_json(orjson.loads(value))
    except (ValueError, KeyError, TypeError):
        log.warning("registry entry unreadable", key=key)
        return None


async def _last(js: JetStreamContext, stream: str, subject: str) -> RawStreamMsg | None:
    try:
        # Not the direct form: only this one carries the message's time.
        return await js.get_msg(stream, subject=subject, direct=False)
    except NotFoundError:
        return None


def _pattern(service: str | None) -> str:
    return f"{service}.*" if service else ">"


# nats-py leaves the watcher's methods unannotated.
async def _next(watcher: KeyValue.KeyWatcher, timeout: float) -> KeyValue.Entry | None:
    entry: KeyValue.Entry | None = await watcher.updates(timeout=timeout)  # type: ignore[no-untyped-call]
    return entry


async def _stop(watcher: KeyValue.KeyWatcher) -> None:
    with contextlib.suppress(Exception):
        await watcher.stop()  # type: ignore[no-untyped-call]
