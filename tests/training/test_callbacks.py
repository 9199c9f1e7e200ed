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
