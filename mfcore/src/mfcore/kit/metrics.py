"""Image quality metrics used by reports and benchmarks (scikit-image reference implementations).

scikit-image (and the SciPy it pulls in) is imported on first use: plugins import this
module when the CLI starts, and ``mf --help`` should not pay for it.
"""

from __future__ import annotations

import numpy as np


def psnr(reference: np.ndarray, image: np.ndarray) -> float:
    """PSNR in dB of images in [0, 1]."""
    from skimage.metrics import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(reference.astype(np.float64), np.clip(image, 0, 1).astype(np.float64),
                                         data_range=1.0))


def ssim(reference: np.ndarray, image: np.ndarray) -> float:
    """SSIM of (H, W, C) images in [0, 1], averaged over channels."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(reference.astype(np.float64), np.clip(image, 0, 1).astype(np.float64),
                                       data_range=1.0, channel_axis=-1 if reference.ndim == 3 else None))
