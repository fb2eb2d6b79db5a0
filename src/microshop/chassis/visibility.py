"""Whose rows a caller may list: an admin everyone's, a customer only their own.

    LISTING = Listing(payments, payments.c.id, filters=("user_id", "order_id"))
    payments = await list_visible(db, LISTING, payment_from, viewer, page, order_id=7)

A listing that needs its rows as they are (to join more onto them) filters on
`user_id=owner_filter(viewer)` itself.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from microshop.chassis.auth import Principal
from microshop.chassis.data import Database, Row
from microshop.chassis.data.listing import Listing
from microshop.chassis.paging import Page

T = TypeVar("T")


def owner_filter(viewer: Principal) -> int | None:
    """The `user_id` a listing is filtered on; None, no filter, for an admin."""
    return None if viewer.is_admin else viewer.user_id


async def list_visible(
    db: Database,
    listing: Listing,
    record: Callable[[Row], T],
    viewer: Principal,
    page: Page,
    /,
    **filters: Any,
) -> list[T]:
    """One page of the rows `viewer` may see, as `record(row)`; a filter given as
    None filters nothing."""
    rows = await listing.fetch(db, page, user_id=owner_filter(viewer), **filters)
    return [record(row) for row in rows]
