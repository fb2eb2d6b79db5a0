"""What a route may ask FastAPI for besides the caller (auth.py) and paging (paging.py).

Every dependency is `async def`: FastAPI runs a plain `def` one in a worker thread,
a thread hand-off per request (measured: most of a service's idle-looking CPU).
"""

from typing import Annotated

from fastapi import Depends, Request

from microshop.chassis.client import ServiceClient
from microshop.chassis.data import Database


async def database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def service_client(request: Request) -> ServiceClient:
    return request.app.state.client  # type: ignore[no-any-return]


Db = Annotated[Database, Depends(database)]
Client = Annotated[ServiceClient, Depends(service_client)]
