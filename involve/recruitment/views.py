"""Pages of this domain."""
