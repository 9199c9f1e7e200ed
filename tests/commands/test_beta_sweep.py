"""The β sweep: parsing β lists, and a small sweep end to end (figure, table, reuse on re-run)."""
from __future__ import annotations

import json

import pytest

from latentspace.commands import beta_sweep
from latentspace.commands.beta_sweep import (
    parse_betas,
    run_beta_sweep,
    traversal_rows_vary,
)
from latentspace.commands.options import BetaSweepConfig
from latentspace.errors import LatentspaceError
from latentspace.models.vae_config import VAEConfig
from latentspace.training import trainer
from latentspace.training.config import TrainConfig


@pytest.mark.parametrize("text", ["", "a,b", "1,-1", "1,1", "nan"])
def test_parse_betas_rejects_bad_lists(text):
    with pytest.raises(LatentspaceError):
        parse_betas(text)


def test_traversal_rows_vary_tells_a_changing_row_from_a_flat_one():
    import numpy as np

    rows = np.zeros((3, 5, 28, 28), np.uint8) + 120  # dims x values x image: all the same grey blob
    rows[1, :, 10, 10] = np.arange(5) * 40  # one pixel brightens along row 1
    rows[2, 4, 0, 0] = 145  # row 2 changes one pixel by 0.1: what an inactive dimension does, not a traversal
    assert traversal_rows_vary(rows) == [False, True, False]
    assert traversal_rows_vary(rows.astype(np.float32) / 255) == [False, True, False]


def test_the_default_grid_is_not_the_studys_and_says_why():
    from latentspace.commands.beta_sweep import BETA_SCALE_NOTE

    assert parse_betas(BetaSweepConfig().betas) == [1.0, 4.0, 10.0]
    assert "65,025" in BETA_SCALE_NOTE and "--betas 1,10,100" in BETA_SCALE_NOTE


def test_parse_betas():
    assert parse_betas("1, 10,100") == [1.0, 10.0, 100.0]
    assert parse_betas("0.5") == [0.5]


# ------------------------------------------------------------------ a small sweep

SWEEP_ARGS = ["--betas", "1,50", "--latent-dim", "4", "--epochs", "1", "--limit-train", "256", "--batch-size", "128",
              "--top-k", "3", "--steps", "5", "--image", "3"]


@pytest.fixture(scope="module", autouse=True)
def first_test_images():
    """The first 1000 test images only: the per-β analysis (and each run's figures) stay quick."""
    load_splits = beta_sweep.load_splits

    def head_of_test(*args, **kwargs):
        splits = load_splits(*args, **kwargs)
        splits.test = splits.test.head(1000)
        return splits

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(beta_sweep, "load_splits", head_of_test)
        mp.setattr(trainer, "load_splits", head_of_test)
        yield


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "beta"
    result = run_beta_sweep(BetaSweepConfig(betas="1,50", top_k=3, steps=5, image=3), VAEConfig(latent_dim=4),
                            TrainConfig(epochs=1, limit_train=256, batch_size=128), out=out, progress=False)
    return out, result


@pytest.mark.integration
def test_sweep_trains_one_vae_per_beta(small_sweep):
    out, result = small_sweep
    assert result["runs"] == {"1": "trained", "50": "trained"}
    for beta in (1.0, 50.0):
        cfg = json.loads((out / f"beta-{beta:g}" / "config.json").read_text())
        assert cfg["model"] == "vae" and cfg["model_config"]["beta"] == beta and cfg["seed"] == 0
        assert (out / f"beta-{beta:g}" / "summary.json").is_file()


@pytest.mark.integration
def test_sweep_writes_figure_and_table(small_sweep):
    out, result = small_sweep
    assert (out / "traversals.png").stat().st_size > 10_000
    table = json.loads((out / "table.json").read_text())
    assert [r["beta"] for r in table["rows"]] == [1.0, 50.0]
    for r in table["rows"]:
        assert len(r["kl_per_dim"]) == 4 and len(r["top_dims"]) == 3
        assert r["total_kl"] == pytest.approx(sum(r["kl_per_dim"]))
        assert r["active_units"] == sum(k > 0.01 for k in r["kl_per_dim"])
        assert r["top_dims_kl"] == sorted(r["top_dims_kl"], reverse=True)
        assert 0 < r["test_mse"] < 0.3
        assert len(r["traversal_varies"]) == 3 and all(isinstance(v, bool) for v in r["traversal_varies"])
    md = (out / "table.md").read_text().splitlines()
    assert len(md) == 4 and md[2].startswith("| 1 |") and md[3].startswith("| 50 |")


@pytest.mark.integration
def test_rerun_reuses_finished_runs(small_sweep, capsys):
    from latentspace.cli import main

    out, _ = small_sweep
    ckpts = {b: (out / f"beta-{b}" / "checkpoints" / "last.ckpt").stat().st_mtime_ns for b in ("1", "50")}
    assert main(["beta-sweep", *SWEEP_ARGS, "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "β=1: reused" in printed and "β=50: reused" in printed and "| 50 |" in printed
    assert ckpts == {b: (out / f"beta-{b}" / "checkpoints" / "last.ckpt").stat().st_mtime_ns for b in ("1", "50")}


@pytest.mark.integration
def test_rerun_finishes_an_unfinished_run(small_sweep):
    out, _ = small_sweep
    (out / "beta-50" / "summary.json").unlink()  # as if stopped after its last checkpoint
    result = run_beta_sweep(BetaSweepConfig(betas="1,50", top_k=3, steps=5, image=3), VAEConfig(latent_dim=4),
                            TrainConfig(epochs=1, limit_train=256, batch_size=128), out=out, progress=False)
    assert result["runs"] == {"1": "reused", "50": "resumed"}
    assert (out / "beta-50" / "summary.json").is_file()


@pytest.mark.integration
def test_rerun_with_other_settings_is_refused(small_sweep, capsys):
    from latentspace.cli import main

    out, _ = small_sweep
    assert main(["beta-sweep", *SWEEP_ARGS, "--lr", "0.01", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "other settings" in err


@pytest.mark.integration
def test_sweep_rejects_an_image_outside_the_test_set(tmp_path, capsys):
    from latentspace.cli import main

    args = [a if a != "3" else "1000" for a in SWEEP_ARGS]
    assert main(["beta-sweep", *args, "--out", str(tmp_path / "s"), "--no-progress"]) == 2
    assert "--image must be below 1000" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


@pytest.mark.integration
def test_two_workers_train_the_betas_side_by_side_and_a_rerun_reuses_them(tmp_path):
    args = (VAEConfig(latent_dim=4), TrainConfig(epochs=1, limit_train=256, batch_size=128))
    sweep = BetaSweepConfig(betas="1,4", top_k=3, steps=5, workers=2)
    result = run_beta_sweep(sweep, *args, out=tmp_path / "b", progress=False)
    assert result["runs"] == {"1": "trained", "4": "trained"} and (tmp_path / "b" / "traversals.png").is_file()
    again = run_beta_sweep(sweep, *args, out=tmp_path / "b", progress=False)
    assert again["runs"] == {"1": "reused", "4": "reused"}
