"""Independent readers for exported files, written from shared/formats (never from the plugins)."""
