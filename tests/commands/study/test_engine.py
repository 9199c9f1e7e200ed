"""The study's engine: resumable steps, failure isolation, progress lines, records and a report others can read."""
from __future__ import annotations

import stat

import pytest

from latentspace.commands.study.engine import run_study
from latentspace.commands.study.sections import Step
from latentspace.errors import LatentspaceError
from tests.commands.study.helpers import failing_step, figure_step, parse_report


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
    assert lines[0].startswith("about ") and "in all" in lines[0]  # the whole estimate, before the first step
    assert lines[1].startswith("[1/2] Step A: done in") and "elapsed" in lines[1] and "left" in lines[2]


def test_a_different_preset_in_the_same_directory_is_refused(tmp_path):
    steps = [Step("a", "Step A", figure_step("a", []))]
    run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    with pytest.raises(LatentspaceError, match="holds a study with preset smoke"):
        run_study("quick", tmp_path, steps=steps, log=lambda m: None)


def test_report_and_records_are_readable_by_others(tmp_path):
    report, _ = run_study("smoke", tmp_path, steps=[Step("a", "Step A", figure_step("a", []))], log=lambda m: None)
    for path in (report, tmp_path / "study.json", tmp_path / "steps" / "a.json"):
        assert path.stat().st_mode & stat.S_IROTH, f"{path.name} is private"


def test_a_step_that_needs_labels_is_skipped_by_design_on_unlabelled_data(tmp_path, monkeypatch):
    """No labels: the classifier-like step is skipped with its reason in the report, the others run, and the
    study does not count the skip as a failure (the CLI exits 0)."""
    import latentspace.commands.study.engine as engine
    from tests.fakes import fake_colour_test_set

    unlabelled = fake_colour_test_set(40, labelled=False)
    monkeypatch.setattr(engine, "_study_data", lambda dataset, seed, data: type(
        "S", (), {"classes": unlabelled.classes, "image_shape": unlabelled.shape, "identity": "fake-rgb"})())
    calls = []
    steps = [Step("a", "Step A", figure_step("a", calls)),
             Step("cls", "Classifier", figure_step("cls", calls), needs_labels=True)]
    report, sections = run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    assert calls == ["a"]
    assert sections[1].status == "skipped" and sections[1].by_design and "no labels" in sections[1].error
    html = parse_report(report)
    assert html["cls"]["status"] == "skipped" and "no labels" in html["cls"]["text"]
    page = report.read_text()
    assert "Classifier: skipped" in page and "3x32x32" in page and "<td>none</td>" in page


def test_the_study_refuses_changed_data_options_in_the_same_directory(tmp_path, monkeypatch):
    import latentspace.commands.study.engine as engine

    monkeypatch.setattr(engine, "_study_data", lambda dataset, seed, data: type(
        "S", (), {"classes": ("a", "b"), "image_shape": (1, 28, 28), "identity": "ab"})())
    steps = [Step("a", "Step A", figure_step("a", []))]
    run_study("smoke", tmp_path, steps=steps, log=lambda m: None)
    with pytest.raises(LatentspaceError, match="data options"):
        run_study("smoke", tmp_path, steps=steps, log=lambda m: None, image_size=32)
