"""The zygote: one process that imports every service once, then forks a child per
service instance on request.

Each service imports the same ~100 MiB of libraries (FastAPI, SQLAlchemy, aiohttp,
pydantic, cryptography) in about a second of CPU. Seven of them starting at once on
two cores took most of `microshop up`'s seconds, and held seven private copies of
the same objects. Forked from here, a service starts in milliseconds and shares
those pages with its siblings (copy-on-write; gc.freeze keeps the collector from
touching, and so copying, them). Each child is still its own process, with its own
database, port and event loop: exactly what `microshop serve <service>` runs.

The supervisor talks to it over a SOCK_SEQPACKET socket (one message per packet):

    -> {"argv": ["serve", "orders", "--port", "8103", "--host", "127.0.0.1"],
        "env": {...}}                 with the child's stdout and stderr as fds
    <- {"pid": 1234}
    <- {"exited": 1234, "code": -9}   whenever a child ends (the zygote reaps it)

It never starts an event loop or a thread, so a fork copies nothing half-done.
When the supervisor goes away (the socket closes) it terminates its children and
exits; each child also gets SIGTERM if the zygote dies (PDEATHSIG).
"""

import contextlib
import ctypes
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import traceback
from collections.abc import Sequence

import setproctitle

from microshop.runtime.errors import StartupError
from microshop.runtime.serve import serve

PR_SET_PDEATHSIG = 1
MAX_MESSAGE = 1 << 20


def preload() -> None:
    """Everything a service imports, imported once here (never a service's settings
    or app: those are built in the child, from the child's environment)."""
    from microshop.services import APPS

    for target in APPS.values():
        importlib.import_module(target.partition(":")[0])
    setproctitle.getproctitle()  # claims the memory titles are written in, once
    gc.collect()
    gc.freeze()


def run_child(argv: Sequence[str], env: dict[str, str], out: int, err: int) -> int:
    """In the forked child: become what `python -m microshop serve ...` would be."""
    os.setsid()  # its own session: a Ctrl-C in the terminal reaches only the supervisor
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    devnull = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((devnull, 0), (out, 1), (err, 2)):
        os.dup2(source, target)
        os.close(source)
    # Each line reaches the supervisor as it is written (an exec'd service gets
    # PYTHONUNBUFFERED; this interpreter started before its child's environment).
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    # What `ps` shows: the command it runs, not the zygote's (before the environment
    # changes: setproctitle moved it out of the way at preload).
    setproctitle.setproctitle(" ".join(["microshop", *argv]))
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["microshop", *argv]
    service, port, host = _serve_arguments(argv)
    try:
        serve(service, host, port)
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)  # as `microshop serve` says it
        return 1
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def _serve_arguments(argv: Sequence[str]) -> tuple[str, int, str]:
    """`serve <service> --port N --host H`, as children.service_argv writes it."""
    if len(argv) != 6 or argv[0] != "serve" or argv[2] != "--port" or argv[4] != "--host":
        raise ValueError(f"the zygote runs `serve <service> --port N --host H`, not {argv}")
    return argv[1], int(argv[3]), argv[5]


class Zygote:
    def __init__(self, channel: socket.socket) -> None:
        self.channel = channel
        self.children: set[int] = set()
        self.selector = selectors.DefaultSelector()
        self.wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(wakeup_write, False)
        os.set_blocking(self.wakeup_read, False)
        signal.set_wakeup_fd(wakeup_write)
        # A handler (not SIG_DFL) so that SIGCHLD reaches the wakeup fd.
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(channel, selectors.EVENT_READ)
        self.selector.register(self.wakeup_read, selectors.EVENT_READ)

    def serve(self) -> None:
        while True:
            for key, _ in self.selector.select():
                if key.fileobj is self.channel and not self._next_request():
                    self._stop_children()
                    return
                if key.fileobj == self.wakeup_read:
                    while os.read(self.wakeup_read, 512) == 512:
                        pass
                    self._reap()

    def _next_request(self) -> bool:
        try:
            data, fds, _, _ = socket.recv_fds(self.channel, MAX_MESSAGE, 2)
        except InterruptedError:
            return True
        if not data:
            return False  # the supervisor is gone
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            self._become_child(request, fds)
        for fd in fds:
            os.close(fd)
        self.children.add(pid)
        self._send({"pid": pid})
        return True

    def _become_child(self, request: dict[str, object], fds: list[int]) -> None:
        code = 1
        try:
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, signal.SIG_DFL)
            self.selector.close()
            self.channel.close()
            os.close(self.wakeup_read)
            argv, env = request["argv"], request["env"]
            assert isinstance(argv, list) and isinstance(env, dict)
            code = run_child(argv, env, fds[0], fds[1])
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self._send({"exited": pid, "code": os.waitstatus_to_exitcode(status)})

    def _send(self, message: dict[str, int]) -> None:
        # OSError: the supervisor is gone; the next read says so.
        with contextlib.suppress(OSError):
            self.channel.send(json.dumps(message).encode())

    def _stop_children(self) -> None:
        for pid in self.children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    # SIGTERM from the supervisor (or from PDEATHSIG): end like a closed socket.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    preload()
    zygote = Zygote(channel)
    try:
        zygote.serve()
    finally:
        zygote._stop_children()


if __name__ == "__main__":
    main()
