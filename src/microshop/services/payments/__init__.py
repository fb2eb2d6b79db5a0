"""Payments: a simulated card processor the order saga charges and refunds."""
