"""Money is Decimal end to end, never float arithmetic.

On the wire it is a JSON number with two decimals (999.99), as the chapter's API
shows; float() is only the last step of rendering, after all arithmetic is done.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

CENT = Decimal("0.01")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


Money = Annotated[
    Decimal,
    Field(ge=0, le=Decimal("99999999.99"), max_digits=12, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]

# A sum of prices (an order's total) may outgrow one price's bounds.
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=16, decimal_places=2),
    PlainSerializer(float, return_type=float, when_used="json"),
]
