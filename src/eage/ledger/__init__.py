"""The ledger layer: the only code that imports beancount (load, query, render, store)."""
