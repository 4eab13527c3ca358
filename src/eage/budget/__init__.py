"""Budget vs actual: the group's yearly budget (rules/budget/YYYY.yaml) and the statements built from it.

``model`` loads and cross-checks the budget, ``statements`` builds the consolidated and member statements
(pure), ``directives`` turns the budget into Fava ``custom "budget"`` entries, ``render`` writes HTML, PDF,
CSV and XLSX.
"""
