"""Small helpers with no knowledge of orders or customers."""
