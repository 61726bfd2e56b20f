"""The progress ledger: append-only records of what each learner did, and completion."""
