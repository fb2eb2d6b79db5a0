"""`/internal/faults`: how `microshop chaos delay|fail|heal` reaches one instance.

GET /internal/faults                 {"delay_ms": 0, "fail_percent": 0}
PUT /internal/faults {"delay_ms": 2000, "fail_percent": 0}
"""

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response

from microshop.chassis import faults
from microshop.chassis.lean import LeanRoutes, reply
from microshop.chassis.schemas import RequestModel

routes = LeanRoutes("/internal/faults")


class FaultsSetting(RequestModel):
    delay_ms: int = Field(0, ge=0, le=60_000)
    fail_percent: float = Field(0, ge=0, le=100)


@routes.get("")
async def current(_: Request) -> Response:
    now = faults.http_faults()
    return reply({"delay_ms": now.delay_ms, "fail_percent": now.fail_percent})


@routes.put_json("", FaultsSetting)
async def change(_: Request, setting: FaultsSetting) -> Response:
    faults.set_http_faults(faults.HttpFaults(setting.delay_ms, setting.fail_percent))
    return reply(setting)
