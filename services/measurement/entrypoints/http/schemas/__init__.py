"""Request and response bodies of the measurement API (`*Create`, `*Public`)."""
