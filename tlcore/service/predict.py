"""Prediction for the app and the CLI: a finished run's model on new images."""
from __future__ import annotations

from pathlib import Path


class Predictor:
    """A finished run's best model, ready to classify images (see tlcore.inference.LoadedModel)."""

    def __init__(self, run_dir: str | Path):
        from ..inference import LoadedModel

        self.model = LoadedModel.from_run(run_dir)
        self.classes = self.model.classes

    def predict(self, images: list, top_k: int = 3) -> list[list[tuple[str, float]]]:
        """Top-k (class, probability) per image; images are paths, raw bytes or (name, bytes).

        Raises DataError for an unusable image.
        """
        return self.model.predict(images, top_k)
