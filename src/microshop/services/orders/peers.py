"""What orders reads from its neighbours, through their HTTP APIs only.

The caller's own token goes along to the users service, which decides what they
may read; the product list is public. A peer that cannot answer raises
Unavailable in the client (a 503 here); a peer that answers something this
contract does not expect is a BadUpstream (502).
"""

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from microshop.chassis.client import Reply, ServiceClient
from microshop.contracts.api import ProductPublic, UserPublic
from microshop.contracts.errors import BadUpstream, NotFound

Model = TypeVar("Model", bound=BaseModel)


async def fetch_user(client: ServiceClient, user_id: int, token: str | None) -> UserPublic:
    reply = await client.get("users", f"/users/{user_id}", token=token)
    return _parse("users", reply, UserPublic, not_found="User not found")


async def fetch_product(client: ServiceClient, product_id: int) -> ProductPublic:
    # Read at the moment of ordering, never from a cache: an order takes today's price.
    reply = await client.get("catalog", f"/internal/products/{product_id}")
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


def _unexpected(service: str, reply: Reply) -> BadUpstream:
    return BadUpstream(f"{service} gave an unexpected answer", upstream_status=reply.status)


async def shipment_has_left(client: ServiceClient, order_id: int) -> bool:
    reply = await client.get("shipping", f"/internal/shipments?order_id={order_id}")
    if reply.status == 404:
        return False
    if not reply.ok:
        raise _unexpected("shipping", reply)
    return reply.body.get("status") in ("shipped", "delivered")
