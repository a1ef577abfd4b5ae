"""The coverage error, apart so that routes and coverages can both raise it."""


class CoverageError(ValueError):
    """A coverage or route the service cannot use; the message says what and how to fix it."""
