"""Operator and developer tools behind the `microshop` command."""
