"""Render the study's sections into one self-contained HTML file (images embedded as data URIs)."""
from __future__ import annotations

import base64
import html
import mimetypes
from pathlib import Path

import jinja2

from latentspace.io import write_text


def data_uri(path) -> str:
    mime = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
    return f"data:{mime};base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def render_report(sections, meta: dict, path: Path) -> Path:
    env = jinja2.Environment(loader=jinja2.PackageLoader("latentspace", "report"),
                             autoescape=jinja2.select_autoescape(["html"]))
    env.filters["cell"] = _cell
    env.filters["data_uri"] = data_uri
    page = env.get_template("template.html").render(sections=sections, meta=meta, escape=html.escape)
    return write_text(path, page)
