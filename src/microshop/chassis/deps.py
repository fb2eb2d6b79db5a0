"""What a route may ask FastAPI for besides the caller (auth.py) and paging (paging.py)."""

from typing import Annotated

from fastapi import Depends, Request

from microshop.chassis.client import ServiceClient
from microshop.chassis.data import Database


def database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def service_client(request: Request) -> ServiceClient:
    return request.app.state.client  # type: ignore[no-any-return]


Db = Annotated[Database, Depends(database)]
Client = Annotated[ServiceClient, Depends(service_client)]
