import pytest

from microshop.chassis.paging import MAX_ID, MAX_PAGE, Page, page


async def test_a_page_is_never_longer_than_one_hundred() -> None:
    assert await page(limit=1000, offset=0) == Page(MAX_PAGE, 0)
    assert await page(limit=10, offset=20) == Page(10, 20)


@pytest.mark.parametrize("value", [MAX_ID])
def test_the_largest_id_fits_a_32_bit_column(value: int) -> None:
    assert value == 2**31 - 1
