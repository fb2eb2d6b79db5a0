"""One supervised OS process: started, its output streamed, restarted when it dies
(as restart_policy.py says), stopped with SIGTERM then SIGKILL.

    process = SupervisedProcess(ProcessSpec("catalog", argv, env), output, events)
    await process.start()
    ...
    await process.stop()
"""

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import psutil

from microshop.runtime.restart_policy import RestartPolicy

OutputSink = Callable[[str, str], None]  # (process name, line)
EventSink = Callable[[str], None]  # a supervisor message

PR_SET_PDEATHSIG = 1
STOP_TIMEOUT = 10.0
_LINE_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str]


class Child(Protocol):
    """What is used of a child process: asyncio's, or one forked by the zygote."""

    pid: int
    returncode: int | None
    stdout: asyncio.StreamReader | None
    stderr: asyncio.StreamReader | None

    async def wait(self) -> int: ...
    def kill(self) -> None: ...
    def terminate(self) -> None: ...


# Starts the spec's process some other way than exec (the zygote's fork).
Launcher = Callable[[ProcessSpec], Awaitable[Child]]


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when its parent dies, so even
    a SIGKILLed supervisor leaves no orphans behind."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


class SupervisedProcess:
    def __init__(
        self,
        spec: ProcessSpec,
        output: OutputSink,
        events: EventSink,
        launcher: Launcher | None = None,
    ) -> None:
        self.spec = spec
        self.launcher = launcher
        self.name = spec.name
        self._output = output
        self._events = events
        self._process: Child | None = None
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self.restart_policy = RestartPolicy()
        self.started_at: float | None = None
        self.restarts = 0
        self.ready_once = False
        self.last_error_lines: deque[str] = deque(maxlen=20)
        self.gave_up = asyncio.Event()
        # `microshop chaos stop`: killed and kept down until `start` releases it.
        self.held = False
        self._released = asyncio.Event()
        # Called whenever the pid changes, so the state file follows.
        self.on_change: Callable[[], None] = lambda: None

    @property
    def pid(self) -> int | None:
        if self._process is None or self._process.returncode is not None:
            return None
        return self._process.pid

    @property
    def last_error_line(self) -> str | None:
        return self.last_error_lines[-1] if self.last_error_lines else None

    async def start(self) -> None:
        await self._spawn()
        self._runner = asyncio.create_task(self._supervise(), name=f"supervise-{self.name}")

    async def _spawn(self) -> None:
        if self.launcher is not None:
            self._process = await self.launcher(self.spec)
        else:
            self._process = await self._exec()
        self.started_at = time.monotonic()
        self.on_change()

    async def _exec(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *self.spec.argv,
            env=self.spec.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
            # Its own process group: a Ctrl-C in the terminal reaches only the
            # supervisor, which then stops everything in order.
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )

    async def _supervise(self) -> None:
        while True:
            process = self._process
            assert process is not None and self.started_at is not None
            readers = [
                asyncio.create_task(self._pump(process.stdout, is_error=False)),
                asyncio.create_task(self._pump(process.stderr, is_error=True)),
            ]
            code = await process.wait()
            # Let the last lines (often the reason it died) reach the log first.
            await asyncio.wait(readers, timeout=1.0)
            uptime = time.monotonic() - self.started_at
            self.on_change()
            if self._stopping:
                return
            if self.held:
                self._events(
                    f"{self.name} is stopped (chaos); `microshop chaos start` brings it back"
                )
                await self._released.wait()
                self._released.clear()
                if self._stopping:
                    return
                await self._spawn()
                self._events(f"{self.name} started again (pid {self.pid})")
                self.on_change()
                continue
            delay = self.restart_policy.delay_after_exit(uptime, was_ready=self.ready_once)
            if delay is None:
                self._events(
                    f"{self.name} exited with code {code} before becoming ready; giving up"
                )
                self.gave_up.set()
                return
            self._events(f"{self.name} exited with code {code}; restarting in {delay:g} s")
            await asyncio.sleep(delay)
            if self._stopping:
                return
            await self._spawn()
            self.restarts += 1
            self._events(f"{self.name} restarted (pid {self.pid})")
            self.on_change()

    async def _pump(self, stream: asyncio.StreamReader | None, *, is_error: bool) -> None:
        if stream is None:
            return
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the limit: skip it
                continue
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip()
            if not line:
                continue
            if is_error:
                self.last_error_lines.append(line)
            self._output(self.name, line)

    def create_time(self) -> float | None:
        try:
            return psutil.Process(self.pid).create_time() if self.pid else None
        except psutil.Error:
            return None

    def kill(self) -> None:
        """SIGKILL, as a crash would: the restart policy brings it back."""
        if self._process and self._process.returncode is None:
            self._process.kill()

    def hold(self) -> None:
        """SIGKILL and keep it down (no restart) until `release`."""
        self.held = True
        self.kill()

    def release(self) -> None:
        self.held = False
        self._released.set()

    async def pause(self, seconds: float) -> None:
        """SIGSTOP for `seconds`, then SIGCONT: alive but answering nothing meanwhile."""
        pid = self.pid
        if pid is None:
            return
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(seconds)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def kill_now(self) -> None:
        self._stopping = True
        if self._process and self._process.returncode is None:
            self._process.kill()

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, then SIGKILL if it is still running after `timeout` seconds."""
        self._stopping = True
        self._released.set()  # a held process stays down: stop waiting for `start`
        process = self._process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout)
            except TimeoutError:
                self._events(f"{self.name} ignored SIGTERM for {timeout:g} s; killing it")
                process.kill()
                await process.wait()
        if self._runner is not None:
            await asyncio.wait([self._runner], timeout=2.0)
            self._runner.cancel()
