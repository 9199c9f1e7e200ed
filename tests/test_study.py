"""The study: resumable steps, failure isolation, and a report whose HTML holds every section and figure."""
from __future__ import annotations

from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from latentspace.study import Figure, Section, Step, Table, run_study  # noqa: E402


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


def test_failure_is_reported_and_independent_steps_still_run(tmp_path):
    calls = []
    steps = [Step("a", "Step A", figure_step("a", calls)), Step("b", "Step B", failing_step),
             Step("c", "Step C", figure_step("c", calls), needs=("b",)), Step("d", "Step D", figure_step("d", calls))]
    report, sections = run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    assert [s.status for s in sections] == ["done", "failed", "skipped", "done"]
    assert calls == ["a", "d"]
    html = parse_report(report)
    assert html["a"]["status"] == "done" and html["a"]["images"][0].startswith("data:image/png;base64,")
    assert html["a"]["captions"] == ["caption of a"] and "2.5" in html["a"]["cells"]
    assert html["b"]["status"] == "failed" and "forced failure" in html["b"]["text"]
    assert html["c"]["status"] == "skipped" and "Step B" in html["c"]["text"]
    assert html["d"]["status"] == "done" and len(html["d"]["images"]) == 1


def test_rerun_skips_finished_steps_and_redoes_failed_ones(tmp_path):
    calls = []
    flaky = {"fail": True}

    def sometimes(ctx):
        if flaky["fail"]:
            raise RuntimeError("first time")
        return figure_step("b", calls)(ctx)

    steps = [Step("a", "Step A", figure_step("a", calls)), Step("b", "Step B", sometimes)]
    run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    flaky["fail"] = False
    _, sections = run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    assert calls == ["a", "b"], "step A ran twice or step B was not redone"
    assert sections[0].reused and not sections[1].reused
    run_study("smoke", tmp_path, steps=steps, force=True, log=lambda m: None)
    assert calls == ["a", "b", "a", "b"]


def test_a_step_whose_figures_vanished_is_redone(tmp_path):
    calls = []
    steps = [Step("a", "Step A", figure_step("a", calls))]
    run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    (tmp_path / "a" / "plot.png").unlink()
    run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    assert calls == ["a", "a"]


def test_progress_lines_name_each_step_with_time(tmp_path):
    lines = []
    steps = [Step("a", "Step A", figure_step("a", [])), Step("b", "Step B", figure_step("b", []))]
    run_study("smoke", tmp_path, steps=steps, log=lines.append)
    assert lines[0].startswith("[1/2] Step A: done in") and "elapsed" in lines[0] and "left" in lines[1]


def test_a_different_preset_in_the_same_directory_is_refused(tmp_path):
    from latentspace.errors import LatentspaceError

    steps = [Step("a", "Step A", figure_step("a", []))]
    run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    with pytest.raises(LatentspaceError, match="holds a study with preset smoke"):
        run_study("quick", tmp_path, steps=steps, log=lambda m: None)


@pytest.fixture(scope="module")
def smoke_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    lines = []
    report, sections = run_study("smoke", out, log=lines.append)
    return out, report, sections, lines


def test_smoke_preset_report_has_every_section_and_figure(smoke_study):
    from latentspace.study_steps import STEPS

    out, report, sections, lines = smoke_study
    assert [s.status for s in sections] == ["done"] * len(STEPS), [(s.key, s.error) for s in sections]
    html = parse_report(report)
    for step, section in zip(STEPS, sections):
        got = html[step.key]
        assert got["status"] == "done"
        assert len(got["images"]) == len(section.figures), step.key
        assert all(src.startswith("data:image/") and len(src) > 1000 for src in got["images"]), step.key
        assert len(got["captions"]) == len(section.figures) and all(len(c) > 20 for c in got["captions"])
    assert len(html["maps"]["images"]) == 3 and len(html["ae2"]["images"]) >= 1
    assert any(src.startswith("data:image/gif") for src in html["gan"]["images"]), "the GAN progress GIF is missing"
    summary_cells = html["summary"]["cells"]
    for model in ("Autoencoder, latent 20", "VAE, latent 20", "DCGAN"):
        assert model in summary_cells
    assert len(lines) == len(STEPS) and all("elapsed" in line for line in lines)
    assert "file://" not in report.read_text() and 'src="/' not in report.read_text(), "report is not self-contained"


def test_the_gan_step_trains_at_the_presets_width_and_batch(smoke_study):
    from latentspace.runs import open_run
    from latentspace.study import PRESETS

    out, _, sections, _ = smoke_study
    preset = PRESETS["smoke"]
    intro = next(s for s in sections if s.key == "gan").intro
    assert f"width {preset.gan_width} (the study's is 64)" in intro and "about 16 times fewer operations" in intro
    config = open_run(out / "gan").config()
    assert (config["model_config"]["g_width"], config["model_config"]["d_width"]) == (preset.gan_width,) * 2
    assert config["train"]["batch_size"] == preset.gan_batch
    assert preset.gan_width != 64 and preset.gan_batch != 32, "the smoke preset must differ from the defaults here"


def test_run_tables_leave_out_the_validation_loss_only_where_there_is_none(smoke_study):
    from latentspace.runs import open_run
    from latentspace.study_steps import run_table

    out, _, _, _ = smoke_study
    gan, ae = run_table(open_run(out / "gan"), "t"), run_table(open_run(out / "ae-z20"), "t")
    assert "best validation loss" not in gan.columns and len(gan.rows[0]) == len(gan.columns) == 4
    assert "best validation loss" in ae.columns and all(cell is not None for cell in ae.rows[0])


def test_smoke_study_rerun_skips_every_finished_step(smoke_study):
    out, _, _, _ = smoke_study
    lines = []
    _, sections = run_study("smoke", out, log=lines.append)
    assert all(s.reused for s in sections)
    assert all(": reused in 0.0 s" in line for line in lines)


def test_report_and_records_are_readable_by_others(tmp_path):
    import stat

    report, _ = run_study("smoke", tmp_path, steps=[Step("a", "Step A", figure_step("a", []))], log=lambda m: None)
    for path in (report, tmp_path / "study.json", tmp_path / "steps" / "a.json"):
        assert path.stat().st_mode & stat.S_IROTH, f"{path.name} is private"


def test_every_preset_estimates_every_step_and_quick_fits_in_15_minutes():
    from latentspace.study import PRESETS
    from latentspace.study_steps import STEPS

    for preset in PRESETS.values():
        assert set(preset.estimates) == {s.key for s in STEPS}, preset.name
    # the estimates are the measured per-step times of the quick preset on 2 CPU cores (README)
    assert sum(PRESETS["quick"].estimates.values()) <= 15 * 60
