"""Routes other services call (the order saga); the gateway does not route /internal."""

from fastapi import APIRouter, Request

from microshop.chassis.db import Session
from microshop.contracts.events import StockLine
from microshop.services.catalog import inventory
from microshop.services.catalog.schemas import (
    ReservationPublic,
    StockChange,
    StockLineIn,
    StockRestore,
)

router = APIRouter(prefix="/internal/stock", tags=["internal"])


async def _answer(session: Session, order_id: int, status: str) -> ReservationPublic:
    lines = await inventory.reservation_lines(session, order_id)
    items = [StockLineIn(product_id=line.product_id, quantity=line.quantity) for line in lines]
    return ReservationPublic(order_id=order_id, status=status, items=items)


@router.post("/decrease", response_model=ReservationPublic)
async def decrease_stock(
    change: StockChange, request: Request, session: Session
) -> ReservationPublic:
    lines = [StockLine(product_id=i.product_id, quantity=i.quantity) for i in change.items]
    reservation = await inventory.decrease_stock(session, change.order_id, lines)
    request.app.state.listing.clear()
    return await _answer(session, reservation.order_id, reservation.status)


@router.post("/restore", response_model=ReservationPublic)
async def restore_stock(
    change: StockRestore, request: Request, session: Session
) -> ReservationPublic:
    reservation = await inventory.restore_stock(session, change.order_id)
    request.app.state.listing.clear()
    return await _answer(session, reservation.order_id, reservation.status)
