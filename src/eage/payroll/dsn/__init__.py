"""The DSN (déclaration sociale nominative): the month's declaration, from the month's payroll.

``model``: the values the declaration is built from (identifiers) and its lines (:class:`Rubric`);
``identifiers``: rules/dsn.yaml read and validated (NIR key, SIRET Luhn, code lists); ``lines``: the
file's text (ISO-8859-1, one rubric a line, the S90 totals) and its reading back; ``norm``: the norm's
structure (blocks, nesting, rubrics, code lists) and the structural check; ``mapping``: how payslip lines
map to the norm's codes (rules/payroll/dsn.yaml); ``build``: the declaration of a month (pure).
"""
