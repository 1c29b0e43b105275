"""What both services share over HTTP: problems, authorization, idempotency, limits."""
