"""Transparency log core: RFC 9162 Merkle trees, canonical leaves and C2SP signed checkpoints."""
