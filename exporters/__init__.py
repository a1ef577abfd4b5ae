"""Device file formats. Plain Python: never imports Django or the cameras app."""
