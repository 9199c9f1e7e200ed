"""The callbacks every training gets: metrics.csv's timing, the finite-loss guard, the RNG, train.log."""
import csv
import logging
import time

import pytest
import torch
from lightning.pytorch.callbacks import Callback

from latentspace.models.autoencoder_config import AEConfig
from latentspace.training.callbacks import (
    FiniteLossGuard,
    NonFiniteLoss,
    RNGState,
    TrainLog,
)
from latentspace.training.config import TrainConfig
from latentspace.training.trainer import fit

SLOW = 3.0


class SlowValidation(Callback):
    def on_validation_epoch_end(self, trainer, pl_module):
        time.sleep(SLOW)


@pytest.mark.integration
def test_train_time_excludes_validation(tmp_path):
    run = fit("ae", AEConfig(latent_dim=2), TrainConfig(epochs=1, limit_train=256, batch_size=128), out=tmp_path / "r",
              progress=False, callbacks=[SlowValidation()])
    with open(run.metrics_file) as f:
        (row,) = list(csv.DictReader(f))
    train_time = float(row["train_time_s"])
    assert 0 < train_time < SLOW  # two small steps; the (slow) validation is not in it
    assert abs(float(row["images_per_s"]) - 256 / train_time) / (256 / train_time) < 0.02


class _Trainer:
    """Just what the callbacks read of a Trainer."""
    current_epoch, is_global_zero = 2, True


def test_finite_loss_guard_stops_at_nan_and_lets_manual_steps_pass():
    guard = FiniteLossGuard()
    guard.on_train_batch_end(_Trainer(), None, {"loss": torch.tensor(0.5)}, None, 0)
    guard.on_train_batch_end(_Trainer(), None, {"d_loss": 0.1}, None, 0)  # a manual step returns numbers, no loss
    guard.on_train_batch_end(_Trainer(), None, None, None, 0)
    with pytest.raises(NonFiniteLoss, match="loss became nan at epoch 2 step 7"):
        guard.on_train_batch_end(_Trainer(), None, torch.tensor(float("nan")), None, 7)


def test_rng_state_round_trips():
    cb = RNGState()
    torch.manual_seed(3)
    state = cb.state_dict()
    first = torch.rand(4)
    torch.manual_seed(99)
    cb.load_state_dict(state)
    assert torch.equal(torch.rand(4), first)


def test_train_log_copies_warnings_to_the_run_and_lets_go(tmp_path):
    cb = TrainLog(tmp_path / "train.log")
    logger = logging.getLogger("latentspace.test")
    cb.setup(_Trainer(), None, "fit")
    logger.info("not a warning")
    assert not (tmp_path / "train.log").exists()  # created with the first warning only
    logger.warning("collapse at epoch 0 step 3")
    cb.teardown(_Trainer(), None, "fit")
    logger.warning("after training")
    assert (tmp_path / "train.log").read_text() == "collapse at epoch 0 step 3\n"


@pytest.mark.integration
def test_a_wall_clock_budget_with_a_large_epoch_cap_still_completes_the_schedule_and_the_kl_warmup(tmp_path,
                                                                                                    monkeypatch):
    """compare trains each family for M minutes with an epoch cap of 100,000: the one-cycle schedule and the
    VAE's KL warm-up must run over the steps that fit in the minutes, not over the cap's."""
    from latentspace.models.vae_config import VAEConfig
    from latentspace.training.callbacks import TimeBudget

    monkeypatch.setattr(TimeBudget, "WARMUP_S", 0.5)
    seen = {}

    class Last(Callback):
        def on_train_batch_end(self, trainer, pl_module, *args):
            seen.update(lr=trainer.optimizers[0].param_groups[0]["lr"], kl_weight=pl_module.kl_weight(),
                        step=trainer.global_step, total=trainer.lr_scheduler_configs[0].scheduler.lr_lambdas[0].total,
                        cap=trainer.estimated_stepping_batches)

    run = fit("vae", VAEConfig(latent_dim=2), TrainConfig(epochs=100_000, max_time=0.1, limit_train=256,
                                                          batch_size=64),
              out=tmp_path / "r", progress=False, callbacks=[Last()])
    assert run.summary()["stopped_by"] == "max_time"
    assert seen["total"] < seen["cap"] / 100  # the curve spans the steps the 6 s allow, not the cap's
    assert seen["step"] >= 0.5 * seen["total"]  # ... and the run got through most of them
    assert seen["lr"] < 8e-3 / 2  # past the one-cycle's peak, annealing (it would still be warming up at 8e-3/25)
    assert seen["kl_weight"] > 0.5  # the KL warm-up (over the whole budget) mostly done; near 0 over the cap


def test_budget_steps_is_the_epoch_budget_unless_the_clock_allows_fewer():
    from types import SimpleNamespace

    from latentspace.models.optim import budget_steps

    assert budget_steps(SimpleNamespace(estimated_stepping_batches=500)) == 500
    assert budget_steps(SimpleNamespace(estimated_stepping_batches=500, time_budget_steps=120)) == 120
    assert budget_steps(SimpleNamespace(estimated_stepping_batches=100, time_budget_steps=120)) == 100
