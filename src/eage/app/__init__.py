"""The application layer: one module per command, between the command line and the functional core.

Each command loads its :class:`eage.app.inputs.Inputs` once (the rules, the payroll rules, a snapshot of
the ledger, the period's timesheets and payroll variables), calls pure planners, and hands the plan to the
one commit (:mod:`eage.ledger.store`). :mod:`eage.commands` only parse arguments and print.
"""
