"""Business rules and the work behind the views and tasks, one module per subject."""
