"""The reporting service's use cases: editions made, approved, read, verified and compared."""
