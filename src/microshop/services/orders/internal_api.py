"""Operator routes (`microshop saga list`); the gateway does not route /internal."""

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from microshop.chassis.data import timestamp
from microshop.chassis.deps import Db
from microshop.services.orders import service

router = APIRouter(prefix="/internal/sagas", tags=["internal"])


class SagaSummary(BaseModel):
    order_id: int
    phase: str
    position: int
    outcome: str | None
    reason: str | None
    cancel_requested: bool
    lease_owner: str | None
    updated_at: str


@router.get("", response_model=list[SagaSummary])
async def unfinished_sagas(
    db: Db,
    stuck: Annotated[
        float, Query(ge=0, le=86400 * 365, description="only those unchanged for this many s")
    ] = 0,
) -> list[SagaSummary]:
    return [
        SagaSummary(
            order_id=row["order_id"],
            phase=row["phase"],
            position=row["position"],
            outcome=row["outcome"],
            reason=row["reason"],
            cancel_requested=bool(row["cancel_requested"]),
            lease_owner=row["lease_owner"],
            updated_at=timestamp(row["updated_at"]).isoformat(),
        )
        for row in await service.unfinished_sagas(db, stuck)
    ]
