"""What orders reads from its neighbours, through their HTTP APIs only.

The caller's own token goes along: the users service decides what they may read.
A peer that cannot answer raises ServiceUnavailable in the client (a 503 here);
a peer that answers something this contract does not expect is a 502.
"""

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from microshop.chassis.client import Reply, ServiceClient
from microshop.chassis.errors import ApiError, NotFound
from microshop.contracts.api import ProductPublic, UserPublic

Model = TypeVar("Model", bound=BaseModel)


async def fetch_user(client: ServiceClient, user_id: int, token: str | None) -> UserPublic:
    reply = await client.get("users", f"/users/{user_id}", token=token)
    return _parse("users", reply, UserPublic, not_found="User not found")


async def fetch_product(client: ServiceClient, product_id: int, token: str | None) -> ProductPublic:
    reply = await client.get("catalog", f"/products/{product_id}", token=token)
    return _parse("catalog", reply, ProductPublic, not_found="Product not found")


def _parse(service: str, reply: Reply, model: type[Model], *, not_found: str) -> Model:
    if reply.status == 404:
        raise NotFound(not_found)
    if not reply.ok:
        raise _unexpected(service, reply)
    try:
        return model.model_validate(reply.body)
    except ValidationError:
        raise _unexpected(service, reply) from None


def _unexpected(service: str, reply: Reply) -> ApiError:
    return ApiError(502, f"{service} gave an unexpected answer", upstream_status=reply.status)


async def shipment_has_left(client: ServiceClient, order_id: int) -> bool:
    reply = await client.get("shipping", f"/internal/shipments?order_id={order_id}")
    if reply.status == 404:
        return False
    if not reply.ok:
        raise _unexpected("shipping", reply)
    return reply.body.get("status") in ("shipped", "delivered")
