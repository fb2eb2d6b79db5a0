"""Admin routes: what the shop has sent."""

from fastapi import APIRouter

from microshop.chassis.auth import AdminUser
from microshop.chassis.deps import Db
from microshop.chassis.paging import PageQuery
from microshop.services.notifications import store
from microshop.services.notifications.domain import SentMessage
from microshop.services.notifications.schemas import SentMessagePublic

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("", response_model=list[SentMessagePublic])
async def list_sent_messages(db: Db, _: AdminUser, page: PageQuery) -> list[SentMessage]:
    return await store.list_sent(db, page)
