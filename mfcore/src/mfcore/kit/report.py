"""A self-contained HTML report: pictures beside an index.html a person can open.

Tasks add :class:`~mfcore.task.DemoSection` objects; the report writes each
picture as PNG into its folder and the page last, atomically, so an
interrupted run never leaves a page that points at missing pictures.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path, output_folder
from ..task import DemoSection
from .images import write_image

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}
figure img{max-width:280px;image-rendering:pixelated;border:1px solid #ccc}
figcaption{font-size:.85em;text-align:center}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .7em;text-align:right}
th{background:#f4f4f4}.meta{color:#666;font-size:.85em}
"""


def figure(folder: Path, name: str, image: np.ndarray, caption: str) -> str:
    """Write ``image`` as ``folder/name.png`` and return the HTML figure that shows it."""
    write_image(folder / f"{name}.png", image)
    rel = f"{folder.name}/{name}.png"
    return f'<figure><img src="{html.escape(rel)}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>'


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


class Report:
    """Collects sections and writes ``folder/index.html``."""

    def __init__(self, folder: Path, title: str, meta: Mapping[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        output_folder(self.folder, "report folder")
        self.title = title
        self.meta = dict(meta or {})
        self.sections: list[DemoSection] = []

    def section_folder(self, name: str) -> Path:
        path = self.folder / name
        path.mkdir(exist_ok=True)
        return path

    def add(self, section: DemoSection) -> None:
        self.sections.append(section)

    def write(self) -> Path:
        meta = {"generated": time.strftime("%Y-%m-%d %H:%M:%S"), **self.meta}
        meta_html = " · ".join(f"{html.escape(k)}: {html.escape(str(v))}" for k, v in meta.items())
        parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(self.title)}</title>",
                 f"<style>{_STYLE}</style></head><body><h1>{html.escape(self.title)}</h1>",
                 f"<p class='meta'>{meta_html}</p>"]
        for section in self.sections:
            parts.append(f"<section><h2>{html.escape(section.title)}</h2>{section.html}</section>")
        parts.append("</body></html>")
        index = self.folder / "index.html"
        with atomic_path(index) as tmp:
            tmp.write_text("\n".join(parts), encoding="utf-8")
        return index
