"""The reporting service's adapters: measurement over HTTP, and its own tables."""
