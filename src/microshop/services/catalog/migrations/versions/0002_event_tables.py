"""outbox and inbox

Revision ID: 0002
"""

from microshop.chassis import migrations

revision = "0002"
down_revision = "0001"

upgrade = migrations.create_event_tables
downgrade = migrations.refuse_to_drop_event_tables
