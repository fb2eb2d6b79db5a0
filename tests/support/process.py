"""One service as a real OS process (`python -m microshop serve`), for kill tests."""

import asyncio
import json
import os
import sys
from pathlib import Path

import aiohttp

from tests.support.asgi import free_port


class ServiceProcess:
    def __init__(self, service: str, env: dict[str, str], log: Path) -> None:
        self.service, self.env, self.log = service, env, log
        self.port = free_port()
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, **extra_env: str) -> None:
        env = {**os.environ, **self.env, **extra_env}
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "microshop",
                "serve",
                self.service,
                "--port",
                str(self.port),
                env=env,
                stdout=log,
                stderr=log,
            )
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(self.url + "/health/ready") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if self.proc.returncode is not None:
                    break
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.service} did not start: {self.log.read_text()[-2000:]}")

    async def wait_killed(self, timeout: float = 20) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self) -> None:
        if self.proc and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def peers_env(peers: dict[str, str]) -> str:
    return json.dumps(peers)
