"""The products' statements, written once, and rows read back as domain objects."""

from functools import cache

from sqlalchemy import bindparam, delete, func, insert, select, update

from microshop.chassis.data import Query, insert_into, money
from microshop.chassis.data.listing import Listing
from microshop.chassis.data.records import row_reader
from microshop.services.catalog.domain import MAX_SEARCH_WORDS, Product
from microshop.services.catalog.models import product_terms, products

EDITABLE = ("name", "description", "price", "stock")

PRODUCT = Query(select(products).where(products.c.id == bindparam("id")))
COUNT = Query(select(func.count()).select_from(products))
NEW_PRODUCT = insert_into(products, EDITABLE, returns_id=True)
DROP_TERMS = Query(
    delete(product_terms).where(product_terms.c.product_id == bindparam("product_id"))
)
LISTING = Listing(products, products.c.id)


# Term rows per INSERT: a few statements for an import of a thousand products, and
# at most this many statement sizes to compile (512 parameters, under every
# engine's limit).
TERMS_PER_INSERT = 256


@cache
def new_terms(count: int) -> Query:
    """`count` term rows in one statement: (:p0, :t0), (:p1, :t1), ..."""
    if not 1 <= count <= TERMS_PER_INSERT:
        raise ValueError(f"between 1 and {TERMS_PER_INSERT} term rows per statement: {count}")
    rows = [{"product_id": bindparam(f"p{i}"), "term": bindparam(f"t{i}")} for i in range(count)]
    return Query(insert(product_terms).values(rows))


@cache
def changing(fields: frozenset[str]) -> Query:
    """UPDATE of only the fields a PATCH gives: a rename must not write back a stock
    figure read earlier, which a concurrent order may have changed since."""
    if not fields or not fields <= set(EDITABLE):
        raise ValueError(f"not a set of editable fields: {sorted(fields)}")
    values = {name: bindparam(name) for name in sorted(fields)}
    return Query(update(products).where(products.c.id == bindparam("id")).values(values))


def _search(words: int) -> Query:
    """Products having, for each word, a term in that word's prefix range (params w0,
    w0n, w1, w1n, ...): one index range per word, results by id, a page at a time.

    The page of ids is chosen from the terms alone, and only its products are read:
    reading every match's row to keep a hundred cost PostgreSQL three times as much.
    """
    first = product_terms.alias("first_word")
    ids = select(first.c.product_id).where(
        first.c.term >= bindparam("w0"), first.c.term < bindparam("w0n")
    )
    for i in range(1, words):
        having_word = select(product_terms.c.product_id).where(
            product_terms.c.term >= bindparam(f"w{i}"), product_terms.c.term < bindparam(f"w{i}n")
        )
        ids = ids.where(first.c.product_id.in_(having_word))
    # DISTINCT: a name may have two words beginning with the same query word.
    page = (
        ids.distinct()
        .order_by(first.c.product_id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("page")
    )
    return Query(
        select(products).join(page, products.c.id == page.c.product_id).order_by(products.c.id)
    )


SEARCH = {count: _search(count) for count in range(1, MAX_SEARCH_WORDS + 1)}


product_from = row_reader(Product, price=money)
