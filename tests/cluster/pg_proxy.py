"""The machine's PostgreSQL, which listens on 127.0.0.1 only, for the cluster's
hosts: they reach the root namespace at the bridge's address, and this forwards
each connection to 127.0.0.1:5432, where it arrives from loopback as the server's
access rules expect. A cut host's connections stall here as they would at a
remote database.

    python -m tests.cluster.pg_proxy 10.231.1.1 5432 127.0.0.1 5432
"""

import asyncio
import contextlib
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def main(listen: str, port: int, target: str, target_port: int) -> None:
    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(target, target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(forward, listen, port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    host, port, target, target_port = sys.argv[1:5]
    asyncio.run(main(host, int(port), target, int(target_port)))
