"""Paging and ids, checked once for every list and item route.

Ids are 32-bit integer columns on every backend, so an id outside 1..2^31-1
cannot exist: it is refused with a 422 before any query runs (a huge number would
overflow the database's integer and fail as a 500). A list is never longer than
MAX_PAGE, whatever the client asks for.

    @router.get("")
    async def list_things(page: PageQuery) -> ...
    @router.get("/{thing_id}")
    async def get_thing(thing_id: IdPath) -> ...

    class ThingCreate(RequestModel):
        owner_id: IdField
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import Field

MAX_ID = 2**31 - 1
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


async def page(
    limit: Annotated[int, Query(ge=1, le=MAX_ID, description=f"capped at {MAX_PAGE}")] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Page:
    return Page(limit=min(limit, MAX_PAGE), offset=offset)


PageQuery = Annotated[Page, Depends(page)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
OptionalIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
# An id in a request body.
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
