"""The study's steps, end to end on the smoke preset: every section and figure in the report, the presets'
settings reach the runs, a re-run reuses everything, and the run directories keep their golden record."""
from __future__ import annotations

import pytest

from latentspace.commands.study.engine import run_study
from latentspace.commands.study.presets import PRESETS
from latentspace.commands.study.steps import run_table, steps_for
from latentspace.runs import open_run
from tests.commands.study.helpers import parse_report

pytestmark = pytest.mark.integration
STEPS = steps_for("smoke")  # the smoke study's steps


@pytest.fixture(scope="module")
def smoke_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    lines = []
    report, sections = run_study("smoke", out, log=lines.append)
    return out, report, sections, lines


def test_smoke_preset_report_has_every_section_and_figure(smoke_study):
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
    assert lines[0].startswith("about ") and "in all" in lines[0]  # the whole estimate first, then one per step
    assert len(lines) == 1 + len(STEPS) and all("elapsed" in line for line in lines[1:])
    assert "file://" not in report.read_text() and 'src="/' not in report.read_text(), "report is not self-contained"


def test_the_gan_step_trains_at_the_presets_width_and_batch(smoke_study):
    out, _, sections, _ = smoke_study
    preset = PRESETS["smoke"]
    intro = next(s for s in sections if s.key == "gan").intro
    assert f"width {preset.gan_width} (the study's is 64)" in intro and "about 16 times fewer operations" in intro
    config = open_run(out / "gan").config()
    assert (config["model_config"]["g_width"], config["model_config"]["d_width"]) == (preset.gan_width,) * 2
    assert config["train"]["batch_size"] == preset.gan_batch
    assert preset.gan_width != 64 and preset.gan_batch != 32, "the smoke preset must differ from the defaults here"


def test_run_tables_leave_out_the_validation_loss_only_where_there_is_none(smoke_study):
    out, _, _, _ = smoke_study
    gan, ae = run_table(open_run(out / "gan"), "t"), run_table(open_run(out / "ae-z20"), "t")
    assert "best validation loss" not in gan.columns and len(gan.rows[0]) == len(gan.columns) == 4
    assert "best validation loss" in ae.columns and all(cell is not None for cell in ae.rows[0])


def test_smoke_study_rerun_skips_every_finished_step(smoke_study):
    out, _, _, _ = smoke_study
    lines = []
    _, sections = run_study("smoke", out, log=lines.append)
    assert all(s.reused for s in sections)
    assert all(": reused in 0.0 s" in line for line in lines[1:])


def _record(root) -> dict:
    """What a study leaves, as in tests/golden/golden-smoke.json: every file (Lightning's logs/ aside, traversal
    file names with their data-dependent dimensions as I-J) and the keys of every config.json, metrics.csv and
    summary.json."""
    import csv
    import json
    import re

    files = sorted(re.sub(r"traverse-\d+-\d+", "traverse-I-J", str(p.relative_to(root)))
                   for p in root.rglob("*") if p.is_file() and "logs" not in p.relative_to(root).parts)
    record = {"files": files, "config": {}, "metrics": {}, "summary": {}}
    for p in root.rglob("config.json"):
        d = json.loads(p.read_text())
        record["config"][str(p.relative_to(root))] = sorted(
            [*d, *(f"model_config.{k}" for k in d.get("model_config", {})), *(f"train.{k}" for k in d.get("train", {}))])
    for p in root.rglob("metrics.csv"):  # Lightning's step logs (logs/metrics.csv) too
        record["metrics"][str(p.relative_to(root))] = sorted(next(csv.reader(open(p))))
    for p in root.rglob("summary.json"):
        record["summary"][str(p.relative_to(root))] = sorted(json.loads(p.read_text()))
    return record


def test_the_run_directories_keep_their_golden_record(smoke_study):
    """The model-contract restructuring kept every file and key of a smoke study (recorded before it)."""
    import json
    from pathlib import Path

    out = smoke_study[0]
    golden = json.loads((Path(__file__).parents[2] / "golden" / "golden-smoke.json").read_text())
    golden["files"] = sorted(re_traverse(f) for f in golden["files"])
    for part in ("config", "metrics", "summary"):
        golden[part] = {k: sorted(v) for k, v in golden[part].items()}
    got = _record(out)
    assert got["files"] == golden["files"]
    assert got["config"] == golden["config"]
    assert got["metrics"] == golden["metrics"]
    assert got["summary"] == golden["summary"]


def re_traverse(name: str) -> str:
    import re

    return re.sub(r"traverse-\d+-\d+", "traverse-I-J", name)


def test_the_model_table_gains_inception_columns_when_the_preset_asks(tiny_ae_run, tmp_path, monkeypatch):
    import dataclasses

    import numpy as np

    from latentspace.analysis import inception as I
    from latentspace.commands.study.sections import Context
    from latentspace.commands.study.steps import step_summary
    from latentspace.data.registry import get_spec

    monkeypatch.setenv("LATENTSPACE_CACHE", str(tmp_path))

    def by_mean(images, **kwargs):  # stands in for the slow network: the table's plumbing is under test
        x = I.as_images(images).float().mean((1, 2, 3)).numpy()[:, None]
        return np.hstack([x, np.zeros((len(x), I.FEATURE_DIM - 1))]) / 100

    monkeypatch.setattr(I, "inception_features", by_mean)
    preset = dataclasses.replace(PRESETS["smoke"], eval_n=200, inception_n=100)
    fmnist = get_spec("fashion-mnist").classes
    results = {"ae20": str(tiny_ae_run.path), "features": "our feature network for fashion-mnist"}
    ctx = Context(tmp_path, preset, "fashion-mnist", 0, False, results=dict(results), classes=fmnist)
    (table,) = step_summary(ctx).tables
    assert table.columns[4:8] == ["FID", "KID", "Inception FID", "Inception KID"]
    assert isinstance(table.rows[0][6], float) and "compare with published numbers" in step_summary(ctx).notes[0]
    plain = step_summary(Context(tmp_path, PRESETS["smoke"], "fashion-mnist", 0, False, results=dict(results),
                                 classes=fmnist))
    assert "Inception FID" not in plain.tables[0].columns and not plain.notes
    assert PRESETS["full"].inception_n == 10000 and PRESETS["quick"].inception_n == 0


def test_without_labels_the_summary_keeps_reconstruction_and_says_why_there_is_no_fid(tiny_ae_run, tmp_path):
    from latentspace.commands.study.sections import Context
    from latentspace.commands.study.steps import step_summary

    ctx = Context(tmp_path, PRESETS["smoke"], "folder:/pictures", 0, False, results={"ae20": str(tiny_ae_run.path)})
    section = step_summary(ctx)
    (table,) = section.tables
    assert table.columns == ["model", "test MSE", "PSNR (dB)", "SSIM", "train time (s)"]
    assert isinstance(table.rows[0][1], float)
    assert "has no labels" in section.notes[0] and "--features inception" in section.notes[0]
    assert "Fashion-MNIST" not in section.intro


def test_the_flow_step_draws_its_figures_and_joins_the_summary(tmp_path):
    """The full preset's flow-matching step, at a tiny budget: its section's figures exist, and the summary
    scores it beside the others, with its sample cost."""
    import dataclasses
    from pathlib import Path

    from latentspace.commands.study.sections import Context
    from latentspace.commands.study.steps import step_flow, step_summary
    from latentspace.data.registry import get_spec

    preset = dataclasses.replace(PRESETS["smoke"], limit_train=128, eval_n=100, flow_epochs=1,
                                 flow={"width": 8, "sample_steps": 1, "progress_images": 4})
    ctx = Context(tmp_path, preset, "fashion-mnist", 0, False, classes=get_spec("fashion-mnist").classes)
    section = step_flow(ctx)
    names = [Path(f.path).name for f in section.figures]
    assert names == ["loss.png", "trajectory.png", "progress.gif", "samples.png", "interpolate-samples.png"]
    assert all(Path(f.path).is_file() for f in section.figures)
    assert "1 Heun step)" in section.intro and "width 8" in section.intro
    ctx.results["features"] = "our feature network for fashion-mnist"
    summary = step_summary(ctx)
    (table,) = summary.tables
    (row,) = table.rows
    assert row[0] == "Flow matching" and isinstance(row[1], float)
    assert row[table.columns.index("seconds per 1,000 samples")] > 0
    assert "ODE solve" in summary.intro
