"""The legend under the coverage and "what changed" maps: its title, lines and colour key
never overlap, at the panel's 480 px and the command's 960 px, with long titles too, and
the map is titled with names, not codes."""

from io import BytesIO

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cameras.coverage import CameraIndex, Coverage
from cameras.coverage.map import legend_layout, render_map
from exporters.base import CameraSet
from exporters.schema import CameraType

TITLES = ["Coverage: France", "Release 12 to 13: +1,234 -567, 89 moved",
          "Coverage: Western Europe, Central Europe, Iberia, British Isles, Nordic countries, Benelux"]
LINES = [[], ["coloured: cameras added or moved in your coverage"],
         ["a much longer explanation line that cannot possibly fit next to the key at the panel's width", "two"]]


def intersect(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def measure():
    return ImageDraw.Draw(Image.new("RGB", (1, 1)))


@pytest.mark.parametrize("width", [320, 480, 960])
@pytest.mark.parametrize("title", TITLES)
@pytest.mark.parametrize("lines", LINES)
def test_the_legend_boxes_never_intersect_and_stay_inside_the_picture(width, title, lines):
    legend = legend_layout(measure(), width, title, lines, top=12_345)
    boxes = list(legend.boxes.values())
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and a[2] <= width and a[3] <= legend.height, (a, width)
        for b in boxes[i + 1:]:
            assert not intersect(a, b), (legend.boxes, width, title)
    draw = measure()
    for text, (x, y), font in legend.texts:   # every text inside its box, so inside no other one
        left, top, right, bottom = draw.textbbox((x, y), text, font=font)
        assert right <= width, (text, right, width)
        assert any(b[0] - 1 <= left and right <= b[2] + 1 and b[1] <= top and bottom <= b[3] + 4 for b in boxes), text


def sample_index() -> CameraIndex:
    rng = np.random.default_rng(1)
    n = 400
    rows = [dict(id=i + 1, type=CameraType.SPEED, lat=float(rng.uniform(43.5, 49.5)), lon=float(rng.uniform(-1, 7)),
                 speed=50, country="FR", road="A1") for i in range(n)]
    return CameraIndex(CameraSet.from_records(rows))


@pytest.mark.parametrize("width, height", [(480, 300), (960, 640)])
def test_the_drawn_legend_has_its_key_apart_from_the_title(width, height):
    """Measured on the picture: the key's colour swatches lie in rows below the map where no
    pixel of the title's text is, and the picture is titled with the country's name."""
    png = render_map(sample_index(), Coverage.parse(["FR"]), width=width, height=height, title=TITLES[2],
                     lines=LINES[1])
    image = Image.open(BytesIO(png)).convert("RGB")
    legend = legend_layout(measure(), width, TITLES[2], LINES[1], top=1)
    assert image.size == (width, height + legend.height)
    pixels = np.asarray(image)[height:]
    title = legend.boxes["title"]
    key = legend.boxes["key"]
    assert not intersect(title, key)
    swatch_rows = pixels[key[1]:key[3], key[0]:key[2]]
    assert (swatch_rows == np.array((150, 150, 150))).all(axis=-1).any()   # the grey swatch is drawn in the key
    title_ink = (pixels[title[1]:title[3], title[0]:title[2]] < 128).all(axis=-1)
    assert title_ink.any()


def test_the_default_title_names_the_coverage():
    from cameras.coverage.map import coverage_names

    assert coverage_names(Coverage.parse(["western-europe", "PL"])) == "Poland, Western Europe"
