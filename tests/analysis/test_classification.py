"""Classification metrics (torchmetrics) against a hand count."""
from __future__ import annotations

import torch

from latentspace.analysis.classification import classification_metrics


def test_metrics_match_a_hand_count():
    logits = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 2]), 3).float()
    m = classification_metrics(logits, torch.tensor([0, 1, 2, 2]), ("a", "b", "c"))
    assert m["test_accuracy"] == 0.75
    assert m["per_class_accuracy"] == {"a": 1.0, "b": 1.0, "c": 0.5}
    assert m["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]  # rows true, columns predicted
