"""orders: orders and order lines, with snapshots of the user and the product."""
