"""The Idempotency-Key header: a retry with the same key gets the first answer.

async def place_order(..., key: IdempotencyKey = None) -> ...:
    ...
    if replayed:
        mark_replayed(response)
"""

from typing import Annotated

from fastapi import Header, Response
from starlette.requests import Request

from microshop.contracts.errors import Invalid

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


def required_key(request: Request) -> str:
    """The Idempotency-Key of a lean (Starlette) route, checked as the header above is."""
    key = request.headers.get("idempotency-key", "")
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise Invalid(
            f"An Idempotency-Key header of 1 to {MAX_IDEMPOTENCY_KEY} printable characters is required"
        )
    return key
