"""Render ``incident_gui/resources/incident.svg`` to the PNG icons next to it.

Usage (from the repository root, with PySide6 installed)::

    QT_QPA_PLATFORM=offscreen python resources/render_icon.py

writes ``incident_gui/resources/incident.png`` (256x256) and ``incident-32.png`` (32x32).
``--size N --out FILE`` renders one extra size instead, e.g. to check legibility at 16 px.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent.parent / "incident_gui" / "resources"
SVG = HERE / "incident.svg"
DEFAULT_OUTPUTS: dict[int, Path] = {
    256: HERE / "incident.png",
    32: HERE / "incident-32.png",
}


def render(svg: Path, size: int, out: Path) -> None:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot parse {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        renderer.render(painter)
    finally:
        painter.end()
    # Store as non-premultiplied ARGB, what PNG readers expect; the ".png" suffix picks PNG.
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    if not image.save(str(out)):
        raise SystemExit(f"cannot write {out}")
    print(f"wrote {out} ({size}x{size})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", type=Path, default=SVG)
    parser.add_argument("--size", type=int, help="render a single size")
    parser.add_argument("--out", type=Path, help="output file for --size")
    args = parser.parse_args(argv)

    # Read when the application object is created; no display is needed.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    if args.size is not None:
        if args.out is None:
            parser.error("--size needs --out")
        render(args.svg, args.size, args.out)
    else:
        for size, out in DEFAULT_OUTPUTS.items():
            render(args.svg, size, out)
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
