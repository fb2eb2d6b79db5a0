"""microshop: an e-commerce platform built as real microservices."""

__version__ = "0.1.0"
