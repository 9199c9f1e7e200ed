"""compare's steps: checkpoints at fractions of the wall-clock budget, sample counts that fit the budget."""
from __future__ import annotations

import json

from latentspace.commands.compare import steps
from latentspace.commands.compare.steps import N_CURVE, N_FINAL, N_MIN, BudgetCheckpoints, sample_counts


def test_sample_counts_follow_the_measured_speed_within_their_bounds():
    assert sample_counts(1e-5, 3.0) == (N_FINAL, N_CURVE)  # a GAN: capped
    final, curve = sample_counts(0.02, 3.0)  # a flow model's ODE: 45 s buys 2,250 images, 9 s 450
    assert (final, curve) == (2250, 450)
    assert sample_counts(10.0, 0.05) == (N_MIN, N_MIN)  # never fewer than FID needs


class FakeTrainer:
    current_epoch, global_step = 0, 0

    def __init__(self):
        self.saved = []

    def save_checkpoint(self, path, weights_only=False):
        self.saved.append((path.name, weights_only))
        path.write_bytes(b"x")


def test_budget_checkpoints_are_saved_once_as_the_wall_clock_passes_each_fraction(tmp_path, monkeypatch):
    clock = {"t": 100.0}
    monkeypatch.setattr(steps.time, "monotonic", lambda: clock["t"])
    cb, trainer = BudgetCheckpoints(tmp_path, minutes=1.0), FakeTrainer()
    cb.on_train_start(trainer, None)
    for t, step in ((10, 1), (16, 2), (20, 3), (31, 4), (50, 5)):
        clock["t"], trainer.global_step = 100.0 + t, step
        cb.on_train_batch_end(trainer)
    assert trainer.saved == [("budget-25.ckpt", True), ("budget-50.ckpt", True)]
    listed = json.loads((tmp_path / "budget.json").read_text())
    assert [(p["fraction"], p["seconds"], p["step"]) for p in listed] == [(0.25, 16.0, 2), (0.5, 31.0, 4)]
