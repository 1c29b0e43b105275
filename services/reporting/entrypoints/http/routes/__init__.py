"""The reporting service's operations."""
