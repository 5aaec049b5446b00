"""Draw the Espresso Care brand images (custom_components/espresso_care/brand/*.png).

An espresso cup with crema on a saucer, steam rising, on a transparent background. The images
are committed; run this again only to change them. It needs Pillow, which is not a project
requirement: the demo environment has it (``make demo`` creates ``.venv-demo``), so

    .venv-demo/bin/python scripts/make_brand.py

or any Python with ``pip install Pillow``. Output is deterministic.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

BRAND_DIR = Path(__file__).resolve().parent.parent / "custom_components" / "espresso_care" / "brand"

SUPERSAMPLE = 4  # draw 4x larger and scale down, for smooth edges

CUP = (111, 66, 38, 255)  # espresso brown
CUP_SHADE = (86, 50, 29, 255)
CREMA = (214, 160, 98, 255)
CREMA_EDGE = (176, 118, 62, 255)
SAUCER = (62, 37, 22, 255)
STEAM = (150, 150, 150, 255)  # mid grey: visible on light and dark backgrounds


def _steam_path(
    x0: float, y_top: float, y_bottom: float, phase: float
) -> list[tuple[float, float]]:
    """Points of one wavy steam wisp, in unit coordinates."""
    points = []
    steps = 40
    for i in range(steps + 1):
        f = i / steps
        y = y_bottom - f * (y_bottom - y_top)
        x = x0 + 0.035 * math.sin(phase + f * 2.2 * math.pi)
        points.append((x, y))
    return points


def draw_cup(size: int, *, with_steam: bool = True) -> Image.Image:
    """Return a ``size`` x ``size`` RGBA image of the mark."""
    big = size * SUPERSAMPLE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)

    def px(v: float) -> float:
        return v * big

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (px(x0), px(y0), px(x1), px(y1))

    # Saucer: a wide flat ellipse with a darker rim underneath.
    draw.ellipse(box(0.06, 0.80, 0.94, 0.94), fill=SAUCER)
    draw.ellipse(box(0.12, 0.79, 0.88, 0.89), fill=CUP_SHADE)

    # Handle: a thick ring on the right, drawn before the body so the body covers its inner side.
    draw.ellipse(box(0.62, 0.47, 0.90, 0.73), outline=CUP, width=round(px(0.055)))

    # Body: a bowl, straight sides tapering into a round bottom.
    top_y, bottom_y = 0.42, 0.86
    left, right = 0.16, 0.76
    body: list[tuple[float, float]] = []
    steps = 60
    for i in range(steps + 1):
        # Left side down, round bottom, right side up: parametrise a half-superellipse.
        a = math.pi * i / steps  # 0 .. pi
        cx, rx = (left + right) / 2, (right - left) / 2
        x = cx - rx * math.cos(a)
        depth = math.sin(a) ** 0.55  # flatter than a circle: a cup, not a bowl
        y = top_y + (bottom_y - top_y) * depth * 0.92
        body.append((px(x), px(y)))
    draw.polygon(body, fill=CUP)
    # A darker band on the right side for a little depth.
    shade = [(x, y) for (x, y) in body if x > px(0.60)]
    if len(shade) > 2:
        draw.polygon([(px(0.60), px(top_y)), *shade], fill=CUP_SHADE)

    # Rim and crema: the cup's mouth seen slightly from above.
    draw.ellipse(box(left, top_y - 0.06, right, top_y + 0.06), fill=CUP)
    draw.ellipse(box(left + 0.035, top_y - 0.04, right - 0.035, top_y + 0.045), fill=CREMA_EDGE)
    draw.ellipse(box(left + 0.06, top_y - 0.028, right - 0.06, top_y + 0.035), fill=CREMA)

    if with_steam:
        width = round(px(0.045))
        for x0, phase, y_top in ((0.33, 0.0, 0.08), (0.46, 1.9, 0.04), (0.59, 3.6, 0.10)):
            points = [(px(x), px(y)) for (x, y) in _steam_path(x0, y_top, 0.31, phase)]
            draw.line(points, fill=STEAM, width=width, joint="curve")
            r = width / 2
            for x, y in (points[0], points[-1]):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=STEAM)

    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    """Write icon.png (256 px) and icon@2x.png (512 px)."""
    BRAND_DIR.mkdir(parents=True, exist_ok=True)
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        path = BRAND_DIR / name
        draw_cup(size).save(path, optimize=True)
        print(f"wrote {path.relative_to(BRAND_DIR.parent.parent.parent)} ({size}x{size})")


if __name__ == "__main__":
    main()
