"""User-facing errors: each says what went wrong and how to fix it."""
from __future__ import annotations


class TLError(Exception):
    """Base error. ``str(err)`` is a message fit to show a user as it is.

    ``hint`` says what to do about it; ``code`` is a stable machine-readable tag.
    """

    code = "error"

    def __init__(self, message: str, hint: str | None = None, *, code: str | None = None):
        self.message = message
        self.hint = hint
        if code:
            self.code = code
        super().__init__(self.user_message())

    def user_message(self) -> str:
        if self.hint:
            return f"{self.message} {self.hint}"
        return self.message


class DataError(TLError):
    """The dataset (folder, zip or image) is unusable as given."""

    code = "data"


class ConfigError(TLError):
    """A setting is out of range or unknown."""

    code = "config"


class ModelError(TLError):
    """A backbone name or a weights file is wrong."""

    code = "model"


class WeightsDownloadError(ModelError):
    """Pretrained weights could not be fetched (usually: no network)."""

    code = "weights_download"


class TrainingError(TLError):
    """Training failed (non-finite loss, out of memory, ...)."""

    code = "training"


class RunError(TLError):
    """A run id is unknown or invalid, or the runs directory is unusable."""

    code = "run"


class StopRequested(Exception):
    """Raised inside the trainer when the stop signal is set; ``train`` turns it into a ``cancelled`` event."""
