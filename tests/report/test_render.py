"""The report: one self-contained HTML file, figures embedded, numbers to 4 significant digits, text escaped."""
from __future__ import annotations

import numpy as np
from PIL import Image

from latentspace.commands.study.sections import Figure, Section, Table
from latentspace.report.render import render_report


def test_the_report_embeds_figures_and_formats_numbers(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "f.png")
    sections = [Section("a", "First <step>", intro="x & y", figures=[Figure(str(tmp_path / "f.png"), "a caption")],
                        tables=[Table("t", ["name", "value"], [["lr", 0.0740722045302391], ["wd", 2.2806079994393997e-06],
                                                               ["n", 3], ["none", None]])])]
    meta = {"preset": {"name": "smoke"}, "dataset": "fashion-mnist", "seed": 0, "device": "cpu", "environment": {},
            "total_seconds": 1.0, "created": "now"}
    html = render_report(sections, meta, tmp_path / "report.html").read_text()
    assert "<td>0.07407</td>" in html and "<td>2.281e-06</td>" in html and "<td>3</td>" in html
    assert "0.0740722045302391" not in html
    assert 'src="data:image/png;base64,' in html and "First &lt;step&gt;" in html and "x &amp; y" in html
    assert not list(tmp_path.glob(".report.html.*"))  # written atomically: no temporary file left
