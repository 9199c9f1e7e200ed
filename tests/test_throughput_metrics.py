"""metrics.csv's train_time_s / images_per_s measure the training loop only, not the validation after it."""
import csv
import time

from lightning.pytorch.callbacks import Callback

from latentspace.models.autoencoder import AEConfig
from latentspace.train import TrainConfig, fit

SLOW = 3.0


class SlowValidation(Callback):
    def on_validation_epoch_end(self, trainer, pl_module):
        time.sleep(SLOW)


def test_train_time_excludes_validation(tmp_path):
    run = fit("ae", AEConfig(latent_dim=2), TrainConfig(epochs=1, limit_train=256, batch_size=128), out=tmp_path / "r",
              progress=False, callbacks=[SlowValidation()])
    with open(run.metrics_file) as f:
        (row,) = list(csv.DictReader(f))
    train_time = float(row["train_time_s"])
    assert 0 < train_time < SLOW  # two small steps; the (slow) validation is not in it
    assert abs(float(row["images_per_s"]) - 256 / train_time) / (256 / train_time) < 0.02
