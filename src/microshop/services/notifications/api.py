from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from microshop.chassis.auth import AdminUser
from microshop.chassis.db import Session
from microshop.services.notifications.models import SentMessageRow
from microshop.services.notifications.schemas import SentMessagePublic

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=list[SentMessagePublic])
async def list_sent_messages(
    session: Session,
    _: AdminUser,
    limit: Annotated[int, Query(ge=1)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> object:
    query = select(SentMessageRow).order_by(SentMessageRow.id.desc())
    return list(await session.scalars(query.limit(min(limit, 100)).offset(offset)))
