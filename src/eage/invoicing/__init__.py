"""Member invoices: numbering, credit notes, fees, true-up, PDF and Factur-X."""
