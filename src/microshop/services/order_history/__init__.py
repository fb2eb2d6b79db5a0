"""order_history: the CQRS read model, one denormalized view per order, fed by events."""
