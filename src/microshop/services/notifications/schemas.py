from datetime import datetime

from pydantic import BaseModel, ConfigDict


class SentMessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    event_id: str
    recipient: str
    subject: str
    transport: str
    location: str
    sent_at: datetime
