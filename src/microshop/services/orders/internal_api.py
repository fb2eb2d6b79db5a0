"""Operator routes (`microshop saga list`); the gateway does not route /internal."""

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis.data import timestamp
from microshop.chassis.lean import LeanRoutes, database, reply
from microshop.contracts.errors import Invalid
from microshop.services.orders import service

internal = LeanRoutes("/internal/sagas")
MAX_STUCK_S = 86400 * 365


class SagaSummary(BaseModel):
    order_id: int
    phase: str
    position: int
    outcome: str | None
    reason: str | None
    cancel_requested: bool
    lease_owner: str | None
    updated_at: str


def _stuck(request: Request) -> float:
    """`?stuck=N`: only the sagas unchanged for at least N seconds."""
    try:
        stuck = float(request.query_params.get("stuck", "0"))
    except ValueError:
        raise Invalid("stuck must be a number of seconds") from None
    if not 0 <= stuck <= MAX_STUCK_S:
        raise Invalid(f"stuck must be between 0 and {MAX_STUCK_S} seconds")
    return stuck


@internal.get("")
async def unfinished_sagas(request: Request) -> Response:
    rows = await service.unfinished_sagas(database(request), _stuck(request))
    return reply(
        [
            SagaSummary(
                order_id=row["order_id"],
                phase=row["phase"],
                position=row["position"],
                outcome=row["outcome"],
                reason=row["reason"],
                cancel_requested=bool(row["cancel_requested"]),
                lease_owner=row["lease_owner"],
                updated_at=timestamp(row["updated_at"]).isoformat(),
            ).model_dump()
            for row in rows
        ]
    )
