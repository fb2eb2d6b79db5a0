"""What the console shows of the running system and the actions it offers, through
the same HTTP APIs and code the CLI uses:

- instances: the supervisor's table (`GET /instances` of its control API, as
  `microshop services` reads the processes) joined with the registry (version,
  requests served) and each instance's `/internal/status` (breakers, outbox);
- chaos stop|start: `POST /chaos` of the control API (`microshop chaos stop`);
- chaos delay|fail|heal: `PUT /internal/faults` of each instance (`microshop chaos delay`);
- dead letters and their replay: the bus's own `dead_letters()` and `replay()`
  (`microshop events dead-letters`, `replay-dead-letters`);
- unfinished sagas: the orders service's `/internal/sagas` (`microshop saga list`).
"""

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from microshop.chassis.bus import Bus, DeadLetter
from microshop.chassis.registry import Instance, Registry
from microshop.chassis.service_auth import HEADER, ServiceCredential
from microshop.services.ops.domain import rate

TIMEOUT_S = 2.0
CHAOS_TIMEOUT_S = 30.0
ME = "ops"


class ActionFailed(Exception):
    """An action the console could not carry out; the message is a sentence."""


@dataclass
class InstanceView:
    service: str
    instance: str
    url: str | None
    state: str  # running, stopped, unreachable, starting
    version: str = ""
    uptime_s: float | None = None
    served: int | None = None
    rate: float | None = None
    breakers: dict[str, str] = field(default_factory=dict)
    backlog: int | None = None
    oldest_age_s: float | None = None
    delay_ms: int = 0
    fail_percent: float = 0.0


class Fleet:
    def __init__(
        self,
        registry: Registry,
        credential: ServiceCredential,
        control_url: str | None,
        peers: dict[str, str],
    ) -> None:
        self.registry, self.credential = registry, credential
        self.control_url, self.peers = control_url, peers
        self._session: aiohttp.ClientSession | None = None
        # instance -> (when, served): the previous reading, for the request rate.
        self._readings: dict[str, tuple[float, int]] = {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        return self._session

    def _headers(self) -> dict[str, str]:
        return {HEADER: self.credential.token()}

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # -- reading -----------------------------------------------------------------

    async def _get(self, url: str) -> Any:
        try:
            async with self._http().get(url, headers=self._headers()) as reply:
                return await reply.json(content_type=None) if reply.status == 200 else None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def _supervised(self) -> list[dict[str, Any]] | None:
        if not self.control_url:
            return None
        found = await self._get(self.control_url + "/instances")
        return found if isinstance(found, list) else None

    async def _registered(self) -> list[Instance]:
        try:
            return await asyncio.wait_for(self.registry.instances(), TIMEOUT_S)
        except Exception:  # each backend raises its client's own errors: show none
            return []

    async def instances(self) -> list[InstanceView]:
        supervised, registered = await asyncio.gather(self._supervised(), self._registered())
        by_name = {i.instance: i for i in registered}
        views: list[InstanceView] = []
        if supervised is not None:
            for row in supervised:
                reg = by_name.pop(str(row["name"]), None)
                state = (
                    "stopped" if row.get("held") else "running" if row.get("pid") else "starting"
                )
                url = reg.url if reg else f"http://127.0.0.1:{row['port']}"
                views.append(self._view(str(row["service"]), str(row["name"]), url, state, reg))
        for reg in by_name.values():
            views.append(self._view(reg.service, reg.instance, reg.url, "running", reg))
        if not views:  # no supervisor and no registry: the configured peers
            views = [self._view(s, s, url, "running", None) for s, url in self.peers.items()]
        await asyncio.gather(*(self._status(view) for view in views if view.state == "running"))
        return sorted(views, key=lambda v: (v.service, v.instance))

    def _view(
        self, service: str, name: str, url: str, state: str, reg: Instance | None
    ) -> InstanceView:
        view = InstanceView(service, name, url, state)
        if reg is not None:
            view.version = reg.version
            view.uptime_s = round(time.time() - reg.started, 1) if reg.started else None
        return view

    async def _status(self, view: InstanceView) -> None:
        status = await self._get(f"{view.url}/internal/status")
        if not isinstance(status, dict):
            view.state = "unreachable"
            return
        now, served = time.monotonic(), int(status.get("served") or 0)
        before = self._readings.get(view.instance)
        view.served = served
        view.rate = rate(before[1] if before else None, served, now - before[0] if before else 0)
        self._readings[view.instance] = (now, served)
        view.breakers = dict(status.get("breakers") or {})
        outbox = status.get("outbox") or {}
        view.backlog = outbox.get("backlog")
        view.oldest_age_s = outbox.get("oldest_age_s")
        faults = status.get("faults") or {}
        view.delay_ms = int(faults.get("delay_ms") or 0)
        view.fail_percent = float(faults.get("fail_percent") or 0)

    async def unfinished_sagas(self, orders_url: str | None) -> list[dict[str, Any]] | None:
        if orders_url is None:
            return None
        found = await self._get(orders_url + "/internal/sagas?stuck=0")
        return found if isinstance(found, list) else None

    # -- acting ------------------------------------------------------------------

    async def supervise(self, action: str, target: str) -> str:
        """`microshop chaos stop|start <target>`: through the supervisor's control API."""
        if not self.control_url:
            raise ActionFailed("No supervisor to ask: stop and start work under `microshop up`.")
        body = {"action": action, "target": target, "seconds": 10}
        try:
            async with self._http().post(
                self.control_url + "/chaos",
                json=body,
                headers=self._headers(),
                timeout=aiohttp.ClientTimeout(total=CHAOS_TIMEOUT_S),
            ) as reply:
                answer = await reply.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ActionFailed(f"The supervisor did not answer ({type(exc).__name__}).") from None
        if reply.status != 200:
            raise ActionFailed(f"The supervisor refused: {answer.get('error', reply.status)}.")
        return str(answer["message"])

    async def set_faults(
        self, views: list[InstanceView], delay_ms: int, fail_percent: float
    ) -> str:
        """`microshop chaos delay|fail|heal <service>`: each running instance's faults."""
        body = {"delay_ms": delay_ms, "fail_percent": fail_percent}
        reached = []
        for view in views:
            if view.state != "running" or view.url is None:
                continue
            try:
                async with self._http().put(
                    f"{view.url}/internal/faults", json=body, headers=self._headers()
                ) as reply:
                    if reply.status == 200:
                        reached.append(view.instance)
            except (aiohttp.ClientError, TimeoutError):
                continue
        if not reached:
            raise ActionFailed("No running instance of it answered: nothing was changed.")
        names = ", ".join(reached)
        if not delay_ms and not fail_percent:
            return f"{names}: healed (no injected latency or errors)"
        return f"{names}: {delay_ms} ms added to every request, {fail_percent:g} % answered 500"


async def dead_letters(bus: Bus | None) -> list[DeadLetter] | None:
    """None when the bus is not connected (yet)."""
    if bus is None or not bus.connected:
        return None
    try:
        return await asyncio.wait_for(bus.dead_letters(), TIMEOUT_S * 2)
    except Exception:  # NATS and RabbitMQ raise their clients' own errors
        return None


async def replay(bus: Bus | None, letter_id: str) -> int:
    if bus is None or not bus.connected:
        raise ActionFailed("The broker is not connected: try again in a moment.")
    try:
        return await asyncio.wait_for(bus.replay({letter_id}), CHAOS_TIMEOUT_S)
    except Exception as exc:
        raise ActionFailed(f"The broker did not replay it ({type(exc).__name__}).") from None
