"""The Idempotency-Key header: a retry with the same key gets the first answer.

async def place_order(..., key: IdempotencyKey = None) -> ...:
    ...
    if replayed:
        mark_replayed(response)
"""

from typing import Annotated

from fastapi import Header, Response

MAX_IDEMPOTENCY_KEY = 200
_PRINTABLE = r"^[\x21-\x7e]+$"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        pattern=_PRINTABLE,
        description="A retry with the same key returns the first answer instead of acting again",
    ),
]
RequiredIdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        pattern=_PRINTABLE,
        description="A retry with the same key returns the first answer instead of acting again",
    ),
]


def mark_replayed(response: Response) -> None:
    response.headers["Idempotent-Replayed"] = "true"
