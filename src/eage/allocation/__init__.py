"""Allocation: cost pools, keys, the split, and the re-invoicing amounts."""
