"""Bank statements: reading a bank's CSV export (layout declared in rules/bank.yaml), matching member
payments to open invoices, and appending the new lines to ledger/bank/YYYY-MM.beancount.

``config`` holds the rules model, ``reader`` turns a CSV file into :class:`~eage.bank.reader.BankLine`
values (beangulp's csvbase descriptors), ``receivables`` derives each invoice's paid and open amounts from
the ledger's links, ``matching`` is the pure matching core, and ``importer`` is the shell that loads the
ledger once and commits atomically.
"""
