"""Measurement's application layer: commands (write side), bulk import, queries (read side), rebuild."""
