"""Payroll: parameters (rules/payroll/), the payslip computation, its journal entries and its PDF."""
