"""PyTorch backend: array code through array-api-compat's torch namespace; Keras on torch.

Runs on the first CUDA device when one is visible, otherwise on the CPU. Set
``MF_TORCH_DEVICE`` (e.g. ``cpu`` or ``cuda:1``) to choose explicitly.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from mfcore import Availability, Backend


class TorchBackend(Backend):
    name = "torch"
    package = "torch"
    keras_backend = "torch"

    def is_available(self) -> Availability:
        if importlib.util.find_spec("torch") is None:
            return Availability(False, "PyTorch is not installed (pip install mf-backend-torch)")
        try:
            import torch

            torch.empty(1, device=self.device())
        except Exception as exc:  # a broken install or a bad MF_TORCH_DEVICE
            return Availability(False, f"PyTorch cannot allocate on {self.device()}: {exc}")
        return Availability(True)

    def namespace(self) -> Any:
        import array_api_compat.torch

        return array_api_compat.torch

    def device(self) -> str:
        explicit = os.environ.get("MF_TORCH_DEVICE")
        if explicit:
            return explicit
        import torch

        return "cuda:0" if torch.cuda.is_available() else "cpu"

    def asarray(self, array: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(np.ascontiguousarray(array)).to(self.device())

    def to_numpy(self, array: Any) -> np.ndarray:
        return array.detach().cpu().numpy()

    def seed(self, seed: int) -> None:
        super().seed(seed)
        import torch

        torch.manual_seed(seed)
