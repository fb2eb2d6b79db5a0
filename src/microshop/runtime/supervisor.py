"""`microshop up`: every service as its own OS process, then Envoy in front of them.

Starts the embedded NATS (unless `--broker` names another broker), then the
services, waits for each readiness check, renders and starts the gateway, records
pids in `<data-dir>/run/state.json`, restarts whatever crashes, and on
SIGINT/SIGTERM stops the gateway first, then the services, then NATS (so the
services' last events still reach it). What each process is: processes.py; when
it is restarted: restart_policy.py; how its start is awaited: readiness.py.
"""

import asyncio
import os
import signal
import sys
from collections.abc import Coroutine
from typing import Any

import aiohttp
from aiohttp import web

from microshop.chassis.registry import Registry, open_registry
from microshop.chassis.service_auth import ServiceCredential, operator_credential
from microshop.gateway.envoy_config import Endpoint, render_envoy_config
from microshop.gateway.routes import STOREFRONT, public_prefix
from microshop.runtime import console
from microshop.runtime.children import command_of, inherited_env, service_env, url
from microshop.runtime.control_api import control_app
from microshop.runtime.edge import EdgeFeed
from microshop.runtime.envoy import envoy_argv, write_config
from microshop.runtime.errors import StartupError
from microshop.runtime.fleet import Fleet
from microshop.runtime.forked import ZygoteClient
from microshop.runtime.nats import NATS, nats_argv, nats_env, nats_health_url
from microshop.runtime.ports import HOST, PortPlan
from microshop.runtime.processes import Child, ProcessSpec, SupervisedProcess
from microshop.runtime.readiness import BINARY_TIMEOUT, await_ready, first_failure_stops_all
from microshop.runtime.replicas import free_port
from microshop.runtime.settings import RuntimeSettings
from microshop.runtime.state import (
    ProcessRecord,
    RunState,
    Status,
    remove_run_files,
    write_pid,
    write_state,
)
from microshop.runtime.system import UpOptions, build_gateway, preflight


class Supervisor:
    def __init__(self, options: UpOptions, plan: PortPlan, settings: RuntimeSettings) -> None:
        self.options = options
        self.plan = plan
        self.settings = settings
        self.paths = options.paths
        self.broker_url = options.broker_url(plan)
        self.printer = console.LogPrinter(
            [NATS, *options.services, console.GATEWAY], colour=settings.colour
        )
        self.console = console.stdout_console()
        self.status = Status.STARTING
        self.error: str | None = None
        self.fleet: Fleet | None = None
        self.gateway: SupervisedProcess | None = None
        self.nats: SupervisedProcess | None = None
        self.zygote: ZygoteClient | None = None
        self.feed: EdgeFeed | None = None
        self.registry: Registry | None = None
        self.control_url: str | None = None
        self._background: list[asyncio.Task[None]] = []
        self._control: web.AppRunner | None = None
        self._control_port: int | None = None
        self._stop_requested = asyncio.Event()

    async def run(self) -> None:
        """Runs until SIGINT/SIGTERM; raises StartupError if the system cannot start."""
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._on_signal)
        write_pid(self.paths, os.getpid())
        self._save_state()
        if self.options.open_mode:
            self.printer.event(f"WARNING: {console.OPEN_MODE_WARNING}")
        startup = asyncio.create_task(self._start())
        stop = asyncio.create_task(self._stop_requested.wait())
        try:
            await asyncio.wait([startup, stop], return_when=asyncio.FIRST_COMPLETED)
            if startup.done():
                startup.result()  # raises the StartupError, if any
                await stop
            else:
                startup.cancel()
        except StartupError as exc:
            self.status, self.error = Status.FAILED, str(exc)
            raise
        finally:
            stop.cancel()
            await self._shutdown()

    async def _start(self) -> None:
        """Everything at once: the services need neither the broker (they connect when
        it comes) nor the gateway, and Envoy's health checks find each service when it
        is up. On two cores, starting one by one left a core idle."""
        async with aiohttp.ClientSession() as session:
            waits = []
            if self.settings.preload:
                # First: it imports while NATS starts, and every service forks from it.
                self.zygote = await ZygoteClient.start(inherited_env())
            if self.options.embedded_nats:
                waits.append(await self._start_nats(session))
            broker = console.without_password(self.broker_url)
            self.printer.event(f"events go through {broker} (prefix {self.options.bus_prefix})")
            names = ", ".join(self.options.services)
            self.printer.event(f"starting {names} (data dir {self.options.data_dir})")
            env = service_env(
                self.plan,
                data_dir=str(self.options.data_dir),
                open_mode=self.options.open_mode,
                broker_url=self.broker_url,
                bus_prefix=self.options.bus_prefix,
            )
            # The ops console asks the control API to stop and start instances: its
            # port is chosen now, so the services are told it; it listens once all are up.
            self._control_port = free_port()
            env["MICROSHOP_OPS_CONTROL_URL"] = url(self._control_port)
            self.fleet = Fleet(
                self.plan, env, self._supervise_service, self._operator(), self._changed
            )
            for name in self.options.services:
                for _ in range(self.options.replicas_of(name)):
                    self.fleet.add(name)
            for process in self.fleet.processes.values():
                await process.start()
            waits += [
                await_ready(session, process, self.fleet.health_url(name))
                for name, process in self.fleet.processes.items()
            ]
            waits.append(await self._start_gateway(session))
            await first_failure_stops_all(waits)
        await self._start_control()
        self.status = Status.READY
        self._save_state()
        self.printer.event("all services are healthy")
        self._print_ready()

    async def _start_nats(self, session: aiohttp.ClientSession) -> Coroutine[Any, Any, None]:
        assert self.plan.nats is not None and self.plan.nats_monitor is not None
        argv = nats_argv(HOST, self.plan.nats, self.plan.nats_monitor, self.paths.nats_store)
        self.printer.event(f"starting the embedded NATS (data in {self.paths.nats_store})")
        self.nats = self._supervise(NATS, argv, nats_env(inherited_env()))
        await self.nats.start()
        monitor = nats_health_url(HOST, self.plan.nats_monitor)
        return await_ready(session, self.nats, monitor, BINARY_TIMEOUT)

    async def _start_gateway(self, session: aiohttp.ClientSession) -> Coroutine[Any, Any, None]:
        assert self.fleet is not None
        config_path = self.paths.envoy_config
        gateway = build_gateway(
            self.plan,
            self.options.rate_limit,
            max_body_bytes=self.options.max_body_bytes,
            edge_auth=not self.options.open_mode,
            eds_dir=self.paths.eds_dir,
        )
        # The gateway's endpoints follow the registry (NATS) or, with none to follow
        # (RabbitMQ as broker), what this supervisor runs.
        if self.broker_url.startswith("nats://"):
            self.registry = open_registry(self.broker_url, prefix=self.options.bus_prefix)
        self.feed = EdgeFeed(self.paths.eds_dir, self.options.services, self.registry)
        self.feed.write_all(self.fleet.endpoints() | _planned(self.plan))
        self._background.append(asyncio.create_task(self.feed.run(), name="edge-feed"))
        write_config(config_path, render_envoy_config(gateway))
        self.gateway = self._supervise(console.GATEWAY, envoy_argv(config_path), inherited_env())
        await self.gateway.start()
        return await_ready(session, self.gateway, url(self.plan.gateway, "/health"), BINARY_TIMEOUT)

    def _supervise(
        self, name: str, argv: list[str], env: dict[str, str], forked: bool = False
    ) -> SupervisedProcess:
        process = SupervisedProcess(
            ProcessSpec(name, argv, env),
            self.printer.line,
            self.printer.event,
            launcher=self._fork if forked and self.zygote is not None else None,
        )
        process.on_change = self._changed
        return process

    def _supervise_service(
        self, name: str, argv: list[str], env: dict[str, str]
    ) -> SupervisedProcess:
        return self._supervise(name, argv, env, forked=True)

    async def _fork(self, spec: ProcessSpec) -> Child:
        assert self.zygote is not None
        return await self.zygote.spawn(command_of(spec.argv), spec.env)

    def _changed(self) -> None:
        """A process started, died or was scaled: the state file (and, with no registry
        to follow, the gateway's endpoints) follow."""
        self._save_state()
        if self.feed is not None and self.registry is None and self.fleet is not None:
            self.feed.write_all(self.fleet.endpoints())

    def _operator(self) -> ServiceCredential:
        key = self.settings.service_key
        return operator_credential(key.get_secret_value() if key else None, self.paths.data_dir)

    async def _start_control(self) -> None:
        assert self.fleet is not None
        runner = web.AppRunner(control_app(self.fleet, self._operator()), access_log=None)
        await runner.setup()
        port = self._control_port or free_port()
        await web.TCPSite(runner, HOST, port).start()
        self._control, self.control_url = runner, url(port)

    def _on_signal(self) -> None:
        if self._stop_requested.is_set():
            # A second Ctrl-C: the user does not want to wait for graceful stops.
            for process in self._all_processes():
                process.kill_now()
            return
        self._stop_requested.set()

    def _all_processes(self) -> list[SupervisedProcess]:
        return [
            *([self.gateway] if self.gateway else []),
            *(self.fleet.processes.values() if self.fleet else []),
            *([self.nats] if self.nats else []),
        ]

    async def _shutdown(self) -> None:
        failed = self.status is Status.FAILED
        if not failed:
            self.status = Status.STOPPING
        self._save_state()
        self.printer.event("stopping")
        for task in self._background:
            task.cancel()
        if self._control is not None:
            await self._control.cleanup()
        if self.gateway is not None:
            await self.gateway.stop()
        if self.fleet is not None:
            await asyncio.gather(*(process.stop() for process in self.fleet.processes.values()))
        if self.registry is not None:
            await self.registry.close()
        if self.zygote is not None:
            await self.zygote.close()
        if self.nats is not None:
            await self.nats.stop()
        if failed:
            # Keep state.json: it tells a waiting `up --detach` why the start failed.
            self._save_state()
            self.paths.pid_file.unlink(missing_ok=True)
        else:
            remove_run_files(self.paths)
        self.printer.event("stopped")

    def current_state(self) -> RunState:
        records: dict[str, ProcessRecord] = {}
        if self.nats is not None:
            assert self.plan.nats is not None and self.plan.nats_monitor is not None
            records[NATS] = _record(
                self.nats,
                self.plan.nats,
                nats_health_url(HOST, self.plan.nats_monitor),
                self.broker_url,
            )
        if self.fleet is not None:
            for name, process in self.fleet.processes.items():
                service = self.fleet.service_of[name]
                records[name] = _record(
                    process,
                    self.fleet.port_of[name],
                    self.fleet.health_url(name),
                    _public_url(self.plan.gateway, service),
                    service=service,
                )
        if self.gateway is not None:
            gateway_url = url(self.plan.gateway)
            records[console.GATEWAY] = _record(
                self.gateway, self.plan.gateway, f"{gateway_url}/health", gateway_url
            )
        return RunState(
            supervisor_pid=os.getpid(),
            status=self.status,
            data_dir=str(self.options.data_dir),
            gateway_url=url(self.plan.gateway),
            admin_url=url(self.plan.admin),
            open_mode=self.options.open_mode,
            processes=records,
            error=self.error,
            broker_url=self.broker_url,
            bus_prefix=self.options.bus_prefix,
            control_url=self.control_url,
        )

    def _save_state(self) -> None:
        if self.status is Status.STOPPING and not self.paths.state_file.exists():
            return
        write_state(self.paths, self.current_state())

    def _print_ready(self) -> None:
        state = self.current_state()
        everything = dict.fromkeys(state.processes, True)
        self.console.print(console.process_table(state, dict(everything), everything))
        console.print_summary(
            self.console,
            state,
            self.paths,
            admin_password_from_env=self.settings.admin_password_from_env,
        )
        if sys.stdout.isatty():  # not when detached: its output goes to the log
            self.console.print(f"  [bold]{'stop with':<12}[/] Ctrl-C")


def _record(
    process: SupervisedProcess, port: int, health: str, public: str, service: str | None = None
) -> ProcessRecord:
    return ProcessRecord(
        pid=process.pid,
        port=port,
        health_url=health,
        url=public,
        restarts=process.restarts,
        started_at=process.create_time(),
        service=service,
        instance=process.name if service else None,
    )


def _planned(plan: PortPlan) -> dict[str, list[Endpoint]]:
    """Where each service's first instance listens: the gateway's endpoints until
    the registry (or the fleet) says more."""
    return {name: [Endpoint(HOST, port)] for name, port in plan.services.items()}


def _public_url(gateway_port: int, service: str) -> str:
    prefix = "/" if service == STOREFRONT else public_prefix(service)
    return url(gateway_port, prefix) if prefix else "(internal)"


def run_supervisor(options: UpOptions, settings: RuntimeSettings) -> None:
    """Blocks until the system stops; raises StartupError if it cannot start."""
    plan = preflight(options)
    asyncio.run(Supervisor(options, plan, settings).run())
