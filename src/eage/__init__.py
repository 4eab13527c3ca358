"""eage: accounting and payroll engine of an employer group, on Beancount."""
