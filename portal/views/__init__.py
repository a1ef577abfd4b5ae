"""The web views, one module per part of the site (urls.py maps them)."""
