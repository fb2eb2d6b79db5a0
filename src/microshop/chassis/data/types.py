"""Column types the tables share."""

from sqlalchemy import DateTime
from sqlalchemy.dialects import mysql

# Aware UTC on PostgreSQL; MariaDB's DATETIME keeps microseconds only when asked.
Timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
