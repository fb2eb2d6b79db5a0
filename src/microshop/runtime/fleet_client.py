"""What `microshop services`, `scale` and `chaos` do to a running system: read its
instances from the registry, ask its supervisor to scale or break one, and switch
latency or errors on in an instance's HTTP layer (chassis/faults.py).

    rows = asyncio.run(instance_rows(paths, settings))
    message = asyncio.run(ask_supervisor(paths, settings, "/scale", {"service": "catalog", "replicas": 3}))
"""

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from microshop.chassis.registry import Instance, open_registry
from microshop.runtime.errors import StartupError
from microshop.runtime.health import is_healthy
from microshop.runtime.reach import operator_headers
from microshop.runtime.replicas import UnknownTarget, resolve_target
from microshop.runtime.settings import RuntimeSettings
from microshop.runtime.state import RunPaths, RunState, read_state

TIMEOUT_S = 10.0


class BadTarget(StartupError):
    """A target naming no service or instance (the CLI exits 2 for it)."""


@dataclass(frozen=True)
class InstanceRow:
    service: str
    instance: str
    address: str
    port: int
    healthy: bool
    version: str
    uptime_s: float | None
    served: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "instance": self.instance,
            "address": self.address,
            "port": self.port,
            "healthy": self.healthy,
            "version": self.version,
            "uptime_s": self.uptime_s,
            "requests_served": self.served,
        }


def running(paths: RunPaths) -> RunState:
    state = read_state(paths)
    if state is None or state.supervisor_pid is None:
        raise StartupError(f"microshop is not running with data dir {paths.data_dir}")
    return state


async def _registered(state: RunState) -> list[Instance] | None:
    """The registry's live instances; None when the system has no registry to ask."""
    if not (state.broker_url or "").startswith("nats://"):
        return None
    registry = open_registry(state.broker_url or "", prefix=state.bus_prefix)
    try:
        return await asyncio.wait_for(registry.instances(), TIMEOUT_S)
    finally:
        await registry.close()


async def instance_rows(paths: RunPaths, settings: RuntimeSettings) -> list[InstanceRow]:
    state = running(paths)
    registered = await _registered(state)
    now = time.time()
    if registered is None:  # no registry (RabbitMQ): what the supervisor started
        registered = [
            Instance(record.service, record.instance, "127.0.0.1", record.port, started=0.0)
            for record in state.processes.values()
            if record.service and record.instance
        ]
    async with aiohttp.ClientSession() as session:
        health = await asyncio.gather(*(is_healthy(session, i.health_url) for i in registered))
    return [
        InstanceRow(
            i.service,
            i.instance,
            i.address,
            i.port,
            ok,
            i.version,
            round(now - i.started, 1) if i.started else None,
            i.served if i.started else None,
        )
        for i, ok in zip(registered, health, strict=True)
    ]


def instances_of(state: RunState, target: str) -> list[tuple[str, int]]:
    """(instance name, port) of each instance a target names; BadTarget otherwise."""
    owners = {name: r.service for name, r in state.processes.items() if r.service}
    try:
        names = resolve_target(target, owners)
    except UnknownTarget as exc:
        raise BadTarget(str(exc)) from None
    return [(name, state.processes[name].port) for name in names]


async def ask_supervisor(
    paths: RunPaths, settings: RuntimeSettings, path: str, body: dict[str, Any]
) -> str:
    state = running(paths)
    if not state.control_url:
        raise StartupError(
            "this system's supervisor has no control API (started by an older microshop)"
        )
    timeout = aiohttp.ClientTimeout(total=120)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(
            state.control_url + path, json=body, headers=operator_headers(paths, settings)
        ) as reply,
    ):
        answer = await reply.json(content_type=None)
    if reply.status == 400:
        raise BadTarget(str(answer.get("error")))
    if reply.status != 200:
        raise StartupError(f"the supervisor answered {reply.status}: {answer}")
    return str(answer["message"])


async def set_faults(
    paths: RunPaths,
    settings: RuntimeSettings,
    target: str | None,
    delay_ms: int = 0,
    fail_percent: float = 0.0,
) -> str:
    """Switches latency and errors on (or, both 0, off) in every instance the target
    names; target None: every instance of every service."""
    state = running(paths)
    chosen = (
        instances_of(state, target)
        if target is not None
        else [(name, r.port) for name, r in state.processes.items() if r.service]
    )
    headers = operator_headers(paths, settings)
    body = {"delay_ms": delay_ms, "fail_percent": fail_percent}
    down = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as session:
        for name, port in chosen:
            try:
                async with session.put(
                    f"http://127.0.0.1:{port}/internal/faults", json=body, headers=headers
                ) as reply:
                    if reply.status != 200:
                        raise StartupError(f"{name} answered {reply.status}")
            except (aiohttp.ClientError, TimeoutError):
                down.append(name)  # stopped or paused: it starts again with none
    reached = [name for name, _ in chosen if name not in down]
    if not reached:
        raise StartupError(f"{', '.join(down)} not running: nothing to change")
    names = ", ".join(reached) if target is not None else "every instance"
    names += f" ({', '.join(down)} not running)" if down else ""
    if not delay_ms and not fail_percent:
        return f"{names}: healed (no injected latency or errors)"
    return f"{names}: {delay_ms} ms added to every request, {fail_percent:g} % answered 500"
