"""The supervisor's side of the zygote (zygote.py): start it once, then ask it for
service processes that behave, for SupervisedProcess, like asyncio's subprocesses.

    zygote = await ZygoteClient.start(env)
    process = await zygote.spawn(spec)     # pid, stdout, stderr, wait(), kill(), terminate()
    ...
    await zygote.close()

A child is the zygote's, not ours, so the zygote reaps it and tells us its exit
code; signals go straight to its pid.
"""

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys

MAX_MESSAGE = 1 << 16
START_TIMEOUT = 60.0
LINE_LIMIT = 1024 * 1024


class ForkedProcess:
    """What SupervisedProcess uses of asyncio.subprocess.Process."""

    def __init__(self, pid: int, stdout: "_Pipe", stderr: "_Pipe") -> None:
        self.pid = pid
        self.stdout: asyncio.StreamReader | None = stdout.reader
        self.stderr: asyncio.StreamReader | None = stderr.reader
        self.returncode: int | None = None
        self._pipes = (stdout, stderr)
        self._exited = asyncio.Event()

    def exited(self, code: int) -> None:
        self.returncode = code
        self._exited.set()
        for pipe in self._pipes:
            pipe.close_soon()

    async def wait(self) -> int:
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ZygoteClient:
    def __init__(self, channel: socket.socket, process: asyncio.subprocess.Process) -> None:
        self.channel = channel
        self.process = process
        self.children: dict[int, ForkedProcess] = {}
        self._pids: asyncio.Queue[int] = asyncio.Queue()
        self._spawning = asyncio.Lock()
        self._reader = asyncio.create_task(self._read(), name="zygote-reader")

    @classmethod
    async def start(cls, env: dict[str, str]) -> "ZygoteClient":
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "microshop.runtime.zygote",
            str(theirs.fileno()),
            env=env,
            pass_fds=(theirs.fileno(),),
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        ours.setblocking(False)
        return cls(ours, process)

    async def spawn(self, argv: list[str], env: dict[str, str]) -> ForkedProcess:
        """A new child running `microshop <argv>` (argv without the program)."""
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            async with self._spawning:  # one request in flight: replies come in order
                request = json.dumps({"argv": argv, "env": env}).encode()
                # One small packet on a local socket: it goes at once or fails.
                socket.send_fds(self.channel, [request], [out_write, err_write])
                pid = await asyncio.wait_for(self._pids.get(), START_TIMEOUT)
            if pid < 0:
                raise RuntimeError("the zygote is gone: no service can be started through it")
        finally:
            os.close(out_write)
            os.close(err_write)
        child = ForkedProcess(pid, await _Pipe.open(out_read), await _Pipe.open(err_read))
        self.children[pid] = child
        return child

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.sock_recv(self.channel, MAX_MESSAGE)
            if not data:
                break
            message = json.loads(data)
            if "pid" in message:
                self._pids.put_nowait(message["pid"])
            elif (child := self.children.pop(message["exited"], None)) is not None:
                child.exited(message["code"])
        # The zygote is gone and with it (PDEATHSIG) its children.
        self._pids.put_nowait(-1)
        for child in self.children.values():
            child.exited(-signal.SIGKILL)
        self.children.clear()

    async def close(self) -> None:
        self.channel.close()
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        await self.process.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, OSError):
            await self._reader


class _Pipe:
    """The read end of a child's stdout or stderr, as a StreamReader."""

    def __init__(self, reader: asyncio.StreamReader, transport: asyncio.BaseTransport) -> None:
        self.reader, self.transport = reader, transport

    @classmethod
    async def open(cls, fd: int) -> "_Pipe":
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=LINE_LIMIT)
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
        )
        return cls(reader, transport)

    def close_soon(self) -> None:
        """After what the child wrote last has been read (EOF closes it anyway)."""
        asyncio.get_running_loop().call_later(2.0, self.transport.close)
