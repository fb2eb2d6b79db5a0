"""Routes other services call (the order saga); the gateway does not route /internal."""

from fastapi import APIRouter, Request

from microshop.chassis.deps import Db
from microshop.services.catalog import inventory
from microshop.services.catalog.domain import Reservation
from microshop.services.catalog.schemas import ReservationPublic, StockChange, StockRestore

router = APIRouter(prefix="/internal/stock", tags=["internal"])


@router.post("/decrease", response_model=ReservationPublic)
async def decrease_stock(change: StockChange, request: Request, db: Db) -> Reservation:
    reservation = await inventory.decrease_stock(db, change.order_id, change.items)
    request.app.state.listing.clear()
    return reservation


@router.post("/restore", response_model=ReservationPublic)
async def restore_stock(change: StockRestore, request: Request, db: Db) -> Reservation:
    reservation = await inventory.restore_stock(db, change.order_id)
    request.app.state.listing.clear()
    return reservation
