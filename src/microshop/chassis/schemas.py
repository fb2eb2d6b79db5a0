"""The base of every request body a client may send.

`extra="forbid"`: a request has exactly the fields a client may set (no mass
assignment). No text field may hold U+0000: PostgreSQL cannot store it, so it
would fail differently on each engine; it is refused here, with a 422, on all.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("must not contain the NUL character (U+0000)")
        return value
