"""The Heartbeat helper against a registry that fails on demand."""

import asyncio
from collections.abc import AsyncGenerator, Callable

import pytest

from microshop.chassis.registry import Heartbeat, Instance, NotRegistered, RegistryError, heartbeat

ME = Instance("orders", "orders-1", "127.0.0.1", 8003)


class Flaky:
    """Records every call; `fail` makes calls raise until it is cleared."""

    ttl = 10.0

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail: Exception | None = None
        self.forget_next_heartbeat = False

    async def register(self, instance: Instance) -> None:
        self._record("register", instance)

    async def heartbeat(self, instance: Instance) -> None:
        if self.forget_next_heartbeat and self.fail is None:
            self.forget_next_heartbeat = False
            self.calls.append(("refused", instance.served))
            raise NotRegistered(instance.instance)
        self._record("heartbeat", instance)

    async def deregister(self, instance: Instance) -> None:
        self._record("deregister", instance)

    async def instances(self, service: str | None = None) -> list[Instance]:
        return []

    async def watch(self, service: str | None = None) -> AsyncGenerator[list[Instance], None]:
        yield []

    async def close(self) -> None:
        pass

    def _record(self, what: str, instance: Instance) -> None:
        self.calls.append((what, instance.served))
        if self.fail is not None:
            raise self.fail

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


async def settle(check: Callable[[], bool], timeout: float = 3.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    assert check(), "condition not met in time"


async def test_it_registers_heartbeats_with_served_and_deregisters_on_stop() -> None:
    registry, served = Flaky(), iter(range(100))
    beat = Heartbeat(registry, ME, every=0.02, served=lambda: next(served))
    await beat.start()
    await asyncio.wait_for(beat.registered.wait(), 1)
    await settle(lambda: registry.names().count("heartbeat") >= 3)
    await beat.stop()
    names = registry.names()
    assert names[0] == "register" and names[-1] == "deregister"
    assert set(names[1:-1]) == {"heartbeat"}
    counts = [n for _, n in registry.calls[:-1]]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    assert not beat.registered.is_set()


async def test_it_keeps_trying_while_the_backend_is_away_then_registers_again() -> None:
    registry = Flaky()
    beat = Heartbeat(registry, ME, every=0.05)
    await beat.start()
    await asyncio.wait_for(beat.registered.wait(), 1)
    registry.fail = RegistryError("broker away")
    await settle(lambda: not beat.registered.is_set())
    failed_from = len(registry.calls)
    await settle(lambda: len(registry.calls) >= failed_from + 3)  # retried, with backoff
    # Every retry registers (not just heartbeats): the backend may have lost it.
    assert set(registry.names()[failed_from:]) == {"register"}
    registry.fail = None
    await asyncio.wait_for(beat.registered.wait(), 2)
    await beat.stop(deregister=False)
    assert "deregister" not in registry.names()


async def test_a_backend_that_forgot_the_instance_gets_it_registered_at_once() -> None:
    registry = Flaky()
    async with Heartbeat(registry, ME, every=0.02) as beat:
        await asyncio.wait_for(beat.registered.wait(), 1)
        registry.forget_next_heartbeat = True
        await settle(lambda: registry.names().count("register") == 2)
        refused = registry.names().index("refused")
        assert registry.names()[refused + 1] == "register"
    assert registry.names()[-1] == "deregister"


async def test_a_stop_does_not_hang_on_a_registry_that_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Hanging(Flaky):
        async def deregister(self, instance: Instance) -> None:
            await asyncio.sleep(60)

    monkeypatch.setattr(heartbeat, "DEREGISTER_TIMEOUT_S", 0.1)  # 2 s in production
    beat = Heartbeat(Hanging(), ME, every=0.02)
    await beat.start()
    await asyncio.wait_for(beat.stop(), 5)
