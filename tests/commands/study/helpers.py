"""Helpers of the study tests: a parser of the report's sections, and steps that draw or fail on demand."""
from __future__ import annotations

from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from latentspace.commands.study.sections import Figure, Section, Table  # noqa: E402


class ReportParser(HTMLParser):
    """Collects each <section class="step">: its id, status, <img> sources, captions and table cells."""

    def __init__(self):
        super().__init__()
        self.sections, self._in_caption, self._in_cell = {}, False, False
        self._current = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "step" in (a.get("class") or ""):
            self._current = self.sections[a["id"]] = {"status": a.get("data-status"), "images": [], "captions": [],
                                                      "cells": [], "text": ""}
        elif tag == "img" and self._current is not None:
            self._current["images"].append(a.get("src", ""))
        elif tag == "figcaption":
            self._in_caption = True
        elif tag == "td":
            self._in_cell = True

    def handle_endtag(self, tag):
        if tag == "section":
            self._current = None
        elif tag == "figcaption":
            self._in_caption = False
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data):
        if self._current is None:
            return
        self._current["text"] += data
        if self._in_caption and data.strip():
            self._current["captions"].append(data.strip())
        if self._in_cell and data.strip():
            self._current["cells"].append(data.strip())


def parse_report(path) -> dict:
    p = ReportParser()
    p.feed(path.read_text())
    return p.sections


def figure_step(key, calls):
    def run(ctx):
        calls.append(key)
        path = ctx.path(key, "plot.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        ax.set_title(key)
        fig.savefig(path)
        plt.close(fig)
        return Section(key, "", figures=[Figure(str(path), f"caption of {key}")],
                       tables=[Table("numbers", ["a", "b"], [[1, 2.5]])])
    return run


def failing_step(ctx):
    raise RuntimeError("forced failure")
