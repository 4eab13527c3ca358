"""eage's Beancount plugins: what eage forbids, reported by bean-check, Fava and eage alike.

Declared in ``ledger/main.beancount`` (``plugin "eage.plugins.invariants"``); see
:mod:`eage.plugins.invariants`.
"""
