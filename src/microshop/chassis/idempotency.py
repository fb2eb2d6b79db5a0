"""The Idempotency-Key header: a retry with the same key gets the first answer.

async def place_order(..., key: IdempotencyKey = None) -> ...:
    ...
    if replayed:
        mark_replayed(response)
"""

from typing import Annotated

from fastapi import Header, Response
from starlette.requests import Request

from microshop.chassis.lean import invalid

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


def mark_replayed(response: Response) -> None:
    response.headers["Idempotent-Replayed"] = "true"


def optional_key(request: Request) -> str | None:
    """The Idempotency-Key of a lean (Starlette) route, if any, checked as above."""
    if "idempotency-key" not in request.headers:
        return None
    return required_key(request)


def required_key(request: Request) -> str:
    """The Idempotency-Key of a lean (Starlette) route, checked as the header above is."""
    key = request.headers.get("idempotency-key", "")
    if (
        not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY
        or not key.isascii()
        or " " in key
        or not key.isprintable()
    ):
        raise invalid(
            "header",
            "idempotency-key",
            f"An Idempotency-Key of 1 to {MAX_IDEMPOTENCY_KEY} printable characters is required",
        )
    return key
