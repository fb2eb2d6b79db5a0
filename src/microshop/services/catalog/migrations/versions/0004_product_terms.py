"""search terms of product names, back-filled from the existing products

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

from microshop.services.catalog.domain import name_terms
from microshop.services.catalog.models import Term

revision = "0004"
down_revision = "0003"

# Products are read and their terms written a batch at a time: memory stays flat
# however large the catalog.
BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "product_terms",
        sa.Column("term", Term, primary_key=True),
        sa.Column(
            "product_id",
            sa.Integer,
            sa.ForeignKey("products.id"),
            primary_key=True,
            autoincrement=False,
        ),
    )
    op.create_index("ix_product_terms_product_id", "product_terms", ["product_id"])
    _back_fill()


def _back_fill() -> None:
    bind = op.get_bind()
    products = sa.table("products", sa.column("id", sa.Integer), sa.column("name", sa.String))
    terms = sa.table(
        "product_terms", sa.column("term", sa.String), sa.column("product_id", sa.Integer)
    )
    after = 0
    while True:
        rows = bind.execute(
            sa.select(products.c.id, products.c.name)
            .where(products.c.id > after)
            .order_by(products.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        values = [{"term": t, "product_id": id_} for id_, name in rows for t in name_terms(name)]
        if values:
            bind.execute(sa.insert(terms), values)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_product_terms_product_id", "product_terms")
    op.drop_table("product_terms")
