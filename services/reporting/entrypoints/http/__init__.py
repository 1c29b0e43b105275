"""The reporting service's HTTP app."""
