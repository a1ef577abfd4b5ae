"""Icons: our own drawings, device sizes, the French danger set, and Windows BMP bytes."""

import io
import struct

import numpy as np
import pytest
from PIL import Image

from exporters.icons import ICON_SETS, draw_icon, icon_files, to_bmp

MAGENTA = (255, 0, 255)
SYMBOLS = ["fixed", "red-light", "section", "mobile", "danger", "other", "tunnel", "level-crossing"]


def rgb(img):
    return np.asarray(img.convert("RGBA"))


def parse_bmp(data: bytes) -> dict:
    """The BMP headers read field by field with struct (independent of the writer)."""
    magic, file_size, r1, r2, offset = struct.unpack_from("<2sIHHI", data, 0)
    (dib, width, height, planes, bits, compression, image_size, xppm, yppm, used,
     important) = struct.unpack_from("<IiiHHIIiiII", data, 14)
    palette_entries = used or (1 << bits if bits <= 8 else 0)
    palette = [struct.unpack_from("<BBBB", data, 54 + 4 * i) for i in range(palette_entries)]
    return dict(magic=magic, file_size=file_size, reserved=(r1, r2), offset=offset, dib=dib, width=width,
                height=height, planes=planes, bits=bits, compression=compression, image_size=image_size,
                used=used, palette=[(r, g, b) for b, g, r, _ in palette])


def decode_bmp(data: bytes) -> np.ndarray:
    """Pixels (top row first, RGB) decoded by hand: bottom-up rows, 4-byte padding, palette."""
    h = parse_bmp(data)
    w, ht, bits = h["width"], h["height"], h["bits"]
    stride = ((w * bits + 31) // 32) * 4
    out = np.zeros((ht, w, 3), dtype=np.uint8)
    for row in range(ht):
        line = data[h["offset"] + row * stride:h["offset"] + (row + 1) * stride]
        y = ht - 1 - row  # bottom-up
        for x in range(w):
            if bits == 24:
                b, g, r = line[3 * x:3 * x + 3]
                out[y, x] = (r, g, b)
            elif bits == 8:
                out[y, x] = h["palette"][line[x]]
            else:
                byte = line[x // 2]
                out[y, x] = h["palette"][(byte >> 4) if x % 2 == 0 else (byte & 15)]
    return out


@pytest.mark.parametrize("size", [22, 24, 32, 48])
@pytest.mark.parametrize("symbol", SYMBOLS)
@pytest.mark.parametrize("icon_set", ICON_SETS)
def test_every_icon_is_a_square_rgba_image_of_the_asked_size(size, symbol, icon_set):
    img = draw_icon(symbol, 0, size, icon_set)
    assert img.mode == "RGBA" and img.size == (size, size)
    alpha = rgb(img)[..., 3]
    assert 0.25 * size * size < (alpha == 255).sum() <= size * size  # a real drawing, not an empty square
    assert set(np.unique(alpha)) <= {0, 255}  # no half-transparent pixels: crisp on a 16-colour device


def test_the_corners_are_transparent_magenta_on_round_signs():
    px = rgb(draw_icon("fixed", 50, 22))
    for y, x in ((0, 0), (0, 21), (21, 0), (21, 21)):
        assert tuple(px[y, x]) == (255, 0, 255, 0)


def test_a_speed_sign_is_a_white_disc_with_a_red_ring_and_a_black_number():
    px = rgb(draw_icon("fixed-50", 0, 22))
    assert tuple(px[11, 0][:3]) == (204, 0, 0)        # ring on the left edge, half way down
    assert tuple(px[0, 11][:3]) == (204, 0, 0)        # ring at the top
    assert tuple(px[3, 11][:3]) == (255, 255, 255)    # inside the ring
    black = (px[..., :3] == 0).all(axis=-1) & (px[..., 3] == 255)
    ys, xs = np.nonzero(black)
    assert black.sum() > 40
    # The number sits inside the white disc, clear of the ring.
    assert ((ys - 10.5) ** 2 + (xs - 10.5) ** 2 <= 9.5 ** 2).all()


@pytest.mark.parametrize("size", [22, 24])
def test_two_digit_speeds_use_a_digit_height_of_at_least_nine_pixels_at_device_sizes(size):
    px = rgb(draw_icon("fixed", 50, size))
    ys, xs = np.nonzero((px[..., :3] == 0).all(axis=-1))
    assert ys.max() - ys.min() + 1 >= 9
    assert xs.max() - xs.min() + 1 >= 12


@pytest.mark.parametrize("size", [22, 24])
def test_three_digit_speeds_fit_inside_the_ring_at_device_sizes(size):
    px = rgb(draw_icon("fixed", 130, size))
    ys, xs = np.nonzero((px[..., :3] == 0).all(axis=-1))
    assert ys.max() - ys.min() + 1 >= 7
    c = (size - 1) / 2
    assert (((ys - c) ** 2 + (xs - c) ** 2) <= (size / 2 - 2) ** 2).all()


def test_every_speed_from_5_to_250_draws_at_22_pixels_and_each_looks_different():
    seen = {}
    for speed in range(5, 255, 5):
        img = draw_icon("fixed", speed, 22)
        key = rgb(img).tobytes()
        assert key not in seen, f"speed {speed} looks like speed {seen.get(key)}"
        seen[key] = speed


def test_the_digits_are_our_bitmap_font_and_do_not_depend_on_a_system_font():
    # The same speed gives the same pixels as the digits drawn from the built-in table.
    from exporters import icons

    img = icons._speed_sign(24, 80)
    ink = (rgb(img)[..., :3] == 0).all(axis=-1)
    ys, xs = np.nonzero(ink)
    block = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    glyph = icons.FONT_BOLD_6X9
    expected = np.array([[c == "#" for c in (glyph["8"][r] + "." + glyph["0"][r])] for r in range(9)])
    assert block.shape == expected.shape
    assert (block == expected).all()


def test_each_category_symbol_is_distinct():
    drawings = {s: rgb(draw_icon(s, 0, 22)).tobytes() for s in SYMBOLS}
    assert len(set(drawings.values())) == len(SYMBOLS)


def test_red_light_and_section_with_a_speed_show_the_number_and_their_mark():
    plain = rgb(draw_icon("fixed", 70, 24))
    red = rgb(draw_icon("red-light", 70, 24))
    section = rgb(draw_icon("section", 70, 24))
    assert not np.array_equal(plain, red) and not np.array_equal(plain, section)
    # The traffic-light mark has its green lamp.
    assert ((red[..., :3] == (0, 160, 0)).all(axis=-1)).sum() >= 2


def test_the_french_danger_set_is_the_same_triangle_for_every_category_with_no_number():
    danger = rgb(draw_icon("fixed", 50, 22, "fr-danger"))
    for symbol in SYMBOLS:
        for speed in (0, 30, 50, 130):
            assert np.array_equal(rgb(draw_icon(symbol, speed, 22, "fr-danger")), danger)
    speed_sign = rgb(draw_icon("fixed", 50, 22, "speed"))
    assert not np.array_equal(danger, speed_sign)


@pytest.mark.parametrize("size", [22, 24])
def test_the_french_danger_sign_is_a_red_bordered_triangle_with_an_exclamation_mark(size):
    px = rgb(draw_icon("fixed", 90, size, "fr-danger"))
    red = (px[..., :3] == (204, 0, 0)).all(axis=-1)
    black = (px[..., :3] == 0).all(axis=-1) & (px[..., 3] == 255)
    # Triangle: the top corners are transparent, the bottom row is red across, the apex is red.
    assert px[0, 0, 3] == 0 and px[0, size - 1, 3] == 0
    assert red[size - 2, 2:size - 2].all()
    assert red[1, size // 2 - 1:size // 2 + 1].any()
    # "!": black only in a narrow centre column, as a bar and a dot with a gap between.
    ys, xs = np.nonzero(black)
    assert xs.max() - xs.min() + 1 <= 3 and abs((xs.min() + xs.max()) / 2 - (size - 1) / 2) <= 1
    rows = sorted(set(ys.tolist()))
    gaps = [b - a for a, b in zip(rows, rows[1:]) if b - a > 1]
    assert len(gaps) == 1, rows
    # No digits: nothing black outside that column.
    assert black.sum() == len(ys) and black[:, : xs.min()].sum() == 0 and black[:, xs.max() + 1:].sum() == 0


@pytest.mark.parametrize("bits", [24, 8, 4])
def test_bmp_headers_are_a_valid_bottom_up_windows_bitmap(bits):
    img = draw_icon("fixed", 50, 22)
    data = to_bmp(img, bits)
    h = parse_bmp(data)
    stride = ((22 * bits + 31) // 32) * 4
    palette = {24: 0, 8: 256, 4: 16}[bits]
    assert h["magic"] == b"BM"
    assert h["file_size"] == len(data)
    assert h["reserved"] == (0, 0)
    assert h["offset"] == 14 + 40 + 4 * palette
    assert (h["dib"], h["width"], h["height"], h["planes"], h["bits"], h["compression"]) == (40, 22, 22, 1, bits, 0)
    assert h["image_size"] == stride * 22 and stride % 4 == 0
    assert len(data) == h["offset"] + stride * 22
    assert h["used"] == palette
    if palette:
        assert h["palette"][0] == MAGENTA  # index 0 is the transparent colour


@pytest.mark.parametrize("bits", [24, 8, 4])
@pytest.mark.parametrize("symbol", SYMBOLS)
def test_bmp_pixels_equal_the_drawing_with_transparency_as_magenta(bits, symbol):
    img = draw_icon(symbol, 80 if symbol == "fixed" else 0, 22)
    expected = rgb(img)[..., :3].copy()
    expected[rgb(img)[..., 3] < 128] = MAGENTA
    data = to_bmp(img, bits)
    assert np.array_equal(decode_bmp(data), expected)
    opened = Image.open(io.BytesIO(data))
    assert opened.size == (22, 22) and opened.format == "BMP"
    assert np.array_equal(np.asarray(opened.convert("RGB")), expected)


def test_a_24_bit_bmp_of_an_odd_width_pads_rows_to_four_bytes():
    img = Image.new("RGBA", (5, 3), (10, 20, 30, 255))
    data = to_bmp(img, 24)
    h = parse_bmp(data)
    assert h["image_size"] == 16 * 3  # 5 * 3 = 15 bytes, padded to 16
    assert data[h["offset"]:h["offset"] + 3] == bytes((30, 20, 10))
    assert data[h["offset"] + 15] == 0
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), np.asarray(img)[..., :3])


def test_a_4_bit_bmp_of_an_odd_width_packs_two_pixels_per_byte_high_nibble_first():
    img = Image.new("RGBA", (3, 1), (0, 0, 0, 0))
    img.putpixel((0, 0), (255, 255, 255, 255))
    img.putpixel((1, 0), (0, 0, 0, 255))
    data = to_bmp(img, 4)
    h = parse_bmp(data)
    row = data[h["offset"]:h["offset"] + 4]
    white, black = h["palette"].index((255, 255, 255)), h["palette"].index((0, 0, 0))
    assert row[0] == (white << 4) | black
    assert row[1] >> 4 == 0  # the transparent third pixel: index 0 (magenta)
    assert np.array_equal(decode_bmp(data)[0], [(255, 255, 255), (0, 0, 0), MAGENTA])


def test_the_same_icon_always_gives_the_same_bytes():
    first = {bits: to_bmp(draw_icon("section", 110, 22), bits) for bits in (24, 8, 4)}
    draw_icon.cache_clear()
    again = {bits: to_bmp(draw_icon("section", 110, 22), bits) for bits in (24, 8, 4)}
    assert first == again


def test_icon_files_gives_one_bmp_per_category_in_order():
    files = icon_files(["fixed-50", "fixed-unknown", "red-light", ("section-130", 130), "mobile"], 24, 8, "speed")
    assert list(files) == ["fixed-50", "fixed-unknown", "red-light", "section-130", "mobile"]
    for data in files.values():
        h = parse_bmp(data)
        assert (h["width"], h["height"], h["bits"]) == (24, 24, 8)
    assert files["fixed-50"] == to_bmp(draw_icon("fixed", 50, 24), 8)
    assert files["fixed-unknown"] == to_bmp(draw_icon("fixed", 0, 24), 8)
    danger = icon_files(["fixed-50", "mobile"], 24, 8, "fr-danger")
    assert danger["fixed-50"] == danger["mobile"] == to_bmp(draw_icon("danger", 0, 24, "fr-danger"), 8)


def test_unknown_icon_sets_and_depths_are_refused():
    with pytest.raises(ValueError, match="valid: speed, fr-danger"):
        draw_icon("fixed", 50, 22, "pirate")
    with pytest.raises(ValueError, match="valid: 24, 8, 4"):
        to_bmp(draw_icon("fixed", 50, 22), 16)
