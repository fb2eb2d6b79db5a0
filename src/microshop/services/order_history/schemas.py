from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from microshop.contracts.money import Amount


class OrderViewPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_id: int
    user_id: int | None
    user_name: str | None
    user_email: str | None
    items: list[dict[str, Any]]
    total: Amount | None
    status: str | None
    reason: str | None
    payment_status: str | None
    shipment_status: str | None
    tracking_number: str | None
    placed_at: datetime | None
    updated_at: datetime | None
