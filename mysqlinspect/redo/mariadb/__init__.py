"""MariaDB 10.8+ mini-transactions: spans, the walk, records applied to pages."""
