"""catalog: products, prices and stock."""
