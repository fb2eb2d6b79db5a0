"""Running microshop on one machine: `serve` one service, `up` the whole system."""
