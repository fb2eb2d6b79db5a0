"""outbox and inbox only: the storefront keeps its state in the visitor's cookies

The chassis runs an outbox relay in every service with a broker; the storefront
publishes no event, but the relay needs its (empty) table to read.

Revision ID: 0001
"""

from microshop.chassis.migrations import create_event_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_event_tables()
