"""Public routes (through the gateway): a customer sees their own payments, an admin all."""

from fastapi import APIRouter

from microshop.chassis.auth import CurrentUser
from microshop.chassis.deps import Db
from microshop.chassis.paging import IdPath, OptionalIdQuery, PageQuery
from microshop.services.payments import service
from microshop.services.payments.domain import Payment
from microshop.services.payments.schemas import PaymentPublic

router = APIRouter(prefix="/payments", tags=["payments"])


@router.get("", response_model=list[PaymentPublic])
async def list_payments(
    db: Db, user: CurrentUser, page: PageQuery, order_id: OptionalIdQuery = None
) -> list[Payment]:
    return await service.list_payments(db, user, order_id, page)


@router.get("/{payment_id}", response_model=PaymentPublic)
async def get_payment(payment_id: IdPath, db: Db, user: CurrentUser) -> Payment:
    return await service.payment_for(db, payment_id, user)
