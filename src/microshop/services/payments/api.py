"""Public routes (through the gateway): a customer sees their own payments, an admin all."""

from typing import Annotated

from fastapi import APIRouter, Query

from microshop.chassis.auth import CurrentUser
from microshop.chassis.db import Session
from microshop.services.payments import service
from microshop.services.payments.domain import MAX_PAGE, page
from microshop.services.payments.models import PaymentRow
from microshop.services.payments.schemas import PaymentPublic

router = APIRouter(prefix="/payments", tags=["payments"])


@router.get("", response_model=list[PaymentPublic])
async def list_payments(
    session: Session,
    user: CurrentUser,
    order_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, description=f"capped at {MAX_PAGE}")] = MAX_PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[PaymentRow]:
    return await service.list_payments(session, user, order_id, page(limit, offset))


@router.get("/{payment_id}", response_model=PaymentPublic)
async def get_payment(payment_id: int, session: Session, user: CurrentUser) -> PaymentRow:
    return await service.payment_for(session, payment_id, user)
