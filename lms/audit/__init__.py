"""The audit log: one hash-chained entry for every state change that matters."""
