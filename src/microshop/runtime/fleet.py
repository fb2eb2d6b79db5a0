"""Every instance of every service a running system has: started at `up`, added
and removed by `microshop scale`, broken on purpose by `microshop chaos`.

    fleet.add("catalog")                 # the next instance: catalog, catalog-2, ...
    await fleet.scale("catalog", 1)      # drains and stops the extra ones
    await fleet.chaos("stop", "catalog/2", 0)

Scaling down drains an instance before stopping it: it leaves the registry and
fails its readiness check at once (so callers and the gateway stop sending it
work), then gets SIGTERM and finishes what it has in flight.
"""

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import aiohttp

from microshop.chassis.service_auth import HEADER, ServiceCredential
from microshop.gateway.envoy_config import Endpoint
from microshop.runtime.children import service_argv, url
from microshop.runtime.ports import HOST, PortPlan
from microshop.runtime.processes import SupervisedProcess
from microshop.runtime.readiness import await_ready
from microshop.runtime.replicas import MAX_REPLICAS, free_port, instance_name, resolve_target

# After an instance left the registry, how long callers get to stop sending it work.
DRAIN_S = 2.0

Supervise = Callable[[str, list[str], dict[str, str]], SupervisedProcess]


class Fleet:
    def __init__(
        self,
        plan: PortPlan,
        env: dict[str, str],
        supervise: Supervise,
        operator: ServiceCredential,
        changed: Callable[[], None],
    ) -> None:
        self.plan, self.env, self.supervise = plan, env, supervise
        self.operator, self.changed = operator, changed
        self.processes: dict[str, SupervisedProcess] = {}
        self.service_of: dict[str, str] = {}
        self.port_of: dict[str, int] = {}
        self._pauses: set[asyncio.Task[None]] = set()  # kept, or asyncio may drop them

    def of(self, service: str) -> list[str]:
        """The instance names of `service`, in the order they were numbered."""
        return [name for name, owner in self.service_of.items() if owner == service]

    def add(self, service: str) -> SupervisedProcess:
        number = 1
        while instance_name(service, number) in self.processes:
            number += 1
        name = instance_name(service, number)
        # The first keeps its planned port (the one Compose and the docs show).
        port = self.plan.services[service] if number == 1 else free_port()
        env = {
            **self.env,
            "MICROSHOP_INSTANCE_ID": name,
            "MICROSHOP_ADVERTISE_HOST": HOST,
            "MICROSHOP_ADVERTISE_PORT": str(port),
        }
        process = self.supervise(name, service_argv(service, port), env)
        self.processes[name], self.service_of[name], self.port_of[name] = process, service, port
        return process

    def health_url(self, name: str) -> str:
        return url(self.port_of[name], "/health/ready")

    def endpoints(self) -> dict[str, list[Endpoint]]:
        """The instances that are running, by service (for a gateway with no registry)."""
        table: dict[str, list[Endpoint]] = {}
        for name, process in self.processes.items():
            if process.pid is not None and not process.held:
                table.setdefault(self.service_of[name], []).append(
                    Endpoint(HOST, self.port_of[name])
                )
        return table

    def instance_table(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "service": self.service_of[name],
                "port": self.port_of[name],
                "pid": process.pid,
                "held": process.held,
                "restarts": process.restarts,
            }
            for name, process in self.processes.items()
        ]

    async def scale(self, service: str, replicas: int) -> str:
        current = self.of(service)
        if not current:
            raise ValueError(f"no service {service!r}: one of {', '.join(self.plan.services)}")
        if not 1 <= replicas <= MAX_REPLICAS:
            raise ValueError(f"replicas must be from 1 to {MAX_REPLICAS}")
        if replicas > len(current):
            started = [self.add(service) for _ in range(replicas - len(current))]
            async with aiohttp.ClientSession() as session:
                for process in started:
                    await process.start()
                await asyncio.gather(
                    *(await_ready(session, p, self.health_url(p.name)) for p in started)
                )
            self.changed()
            return (
                f"scaled {service} up to {replicas}: started {', '.join(p.name for p in started)}"
            )
        extra = current[replicas:]
        await asyncio.gather(*(self._drain_and_stop(name) for name in extra))
        self.changed()
        return (
            f"scaled {service} down to {replicas}: drained and stopped {', '.join(extra) or 'none'}"
        )

    async def _drain_and_stop(self, name: str) -> None:
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as session,
                session.post(
                    url(self.port_of[name], "/internal/drain"),
                    headers={HEADER: self.operator.token()},
                ),
            ):
                pass
        await asyncio.sleep(DRAIN_S)
        process = self.processes.pop(name)
        await process.stop()
        del self.service_of[name], self.port_of[name]

    async def chaos(self, action: str, target: str, seconds: float) -> str:
        names = resolve_target(target, self.service_of)
        processes = [self.processes[name] for name in names]
        if action == "kill":
            for process in processes:
                process.kill()
            done = "SIGKILLed (the supervisor restarts it, as after any crash)"
        elif action == "stop":
            for process in processes:
                process.hold()
            done = "SIGKILLed and kept down (it leaves the registry within its TTL)"
        elif action == "start":
            for process in processes:
                process.release()
            done = "started again"
        else:
            for process in processes:
                task = asyncio.get_running_loop().create_task(process.pause(seconds))
                self._pauses.add(task)
                task.add_done_callback(self._pauses.discard)
            done = f"paused (SIGSTOP) for {seconds:g} s, then SIGCONT"
        self.changed()
        return f"{', '.join(names)}: {done}"
