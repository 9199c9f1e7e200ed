"""Classification results as pure functions (torchmetrics): accuracy, per-class accuracy, confusion matrix."""
from __future__ import annotations

import torch
from torchmetrics.functional.classification import (
    multiclass_accuracy,
    multiclass_confusion_matrix,
)


def classification_metrics(logits: torch.Tensor, labels: torch.Tensor, classes) -> dict:
    """Accuracy, per-class accuracy (recall of each class) and the confusion matrix (rows true, columns predicted)."""
    n = len(classes)
    preds = logits.argmax(1) if logits.dim() == 2 else logits
    confusion = multiclass_confusion_matrix(preds, labels, n)
    per_class = multiclass_accuracy(preds, labels, n, average=None)
    return {
        "test_accuracy": float(multiclass_accuracy(preds, labels, n, average="micro")),
        "test_size": int(len(labels)),
        "per_class_accuracy": {str(c): float(a) for c, a in zip(classes, per_class)},
        "confusion_matrix": confusion.tolist(),
    }
