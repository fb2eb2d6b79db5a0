"""Shipping: shipments for approved orders, their tracking numbers and cancellations."""
