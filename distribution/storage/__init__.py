"""Distribution's tables and their queries, on the access point's store (same database, same migrations)."""
