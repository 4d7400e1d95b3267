"""Background jobs: a supervisor claims queued runs from the store and hands them to an executor."""
