"""A published release of generated demo cameras, for tests that need one in the database."""

from cameras import demo
from cameras.importing import import_file
from cameras.releases import publish_release


def demo_release(tmp_path, cameras: int = 600, seed: int = 5):
    """Import ``cameras`` generated demo cameras (Europe, ``seed``) and publish a release of them."""
    path = tmp_path / "demo.csv"
    demo.write_csv(path, demo.generate(cameras, seed=seed))
    import_file(path, source="demo", fmt="csv")
    return publish_release()
