"""Classification metrics of a validation pass: accuracy, balanced accuracy, per-class recall, confusion."""
from __future__ import annotations

import torch


def confusion_matrix(labels: torch.Tensor, preds: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) counts: row = true class, column = predicted class."""
    idx = labels.long() * num_classes + preds.long()
    return torch.bincount(idx, minlength=num_classes * num_classes).view(num_classes, num_classes)


def per_class_recall(confusion: torch.Tensor) -> list[float | None]:
    """Recall of each class, or None for a class without validation images (no data, not 0 %)."""
    out: list[float | None] = []
    for i in range(confusion.shape[0]):
        n = int(confusion[i].sum())
        out.append(float(confusion[i, i]) / n if n else None)
    return out


def balanced_accuracy(confusion: torch.Tensor) -> float:
    """Mean per-class recall over the classes that have validation images (0 when none has)."""
    recalls = [r for r in per_class_recall(confusion) if r is not None]
    return sum(recalls) / len(recalls) if recalls else 0.0
