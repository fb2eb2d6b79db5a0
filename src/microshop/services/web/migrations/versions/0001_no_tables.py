"""no tables: the storefront keeps its state in the visitor's cookies

Revision ID: 0001
"""

revision = "0001"
down_revision = None


def upgrade() -> None:
    pass
