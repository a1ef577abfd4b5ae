"""Icon sets drawn by the project with Pillow (first version; see draw_icon)."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw


@lru_cache(maxsize=512)
def draw_icon(category: str, speed: int, size: int, icon_set: str = "speed") -> Image.Image:
    """An RGBA icon: a speed-limit sign for a speed, a symbol per category, or the French danger sign."""
    img = Image.new("RGBA", (size, size), (255, 0, 255, 0))
    d = ImageDraw.Draw(img)
    if icon_set == "fr-danger":
        d.polygon([(size / 2, 1), (size - 2, size - 2), (1, size - 2)], fill=(255, 255, 255, 255), outline=(200, 0, 0, 255))
        d.line([(size / 2, size * 0.35), (size / 2, size * 0.65)], fill=(0, 0, 0, 255), width=max(1, size // 10))
        return img
    d.ellipse([0, 0, size - 1, size - 1], fill=(255, 255, 255, 255), outline=(200, 0, 0, 255), width=max(2, size // 7))
    if speed:
        d.text((size / 2, size / 2), str(speed), fill=(0, 0, 0, 255), anchor="mm")
    return img
