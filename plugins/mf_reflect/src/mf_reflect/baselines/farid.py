"""Farid & Adelson (1999): separate reflection and transmission by independent component analysis.

Each polarisation image is a linear mixture of two independent sources, the
reflected and the transmitted scene (eq. 5.2 with one AOI for the whole image),
so ICA on the N observations (pixels as samples) recovers two sources and an
N×2 mixing matrix, up to the order, sign and scale of each source. Those are
fixed by the physics:

* the mean of the observations is explained by the mixing (added to the
  sources as A⁺μ), and each source's sign makes its mixing column positive;
* a source's contribution to the image at angle φ, A_j(φ)·s_j, is a sinusoid in
  2φ (eq. 5.3), fitted to the N columns' entries; the layer is its maximum over φ
  (the reflection is brightest at φ⊥, the transmission at φ∥, the observable
  layers R and T);
* the reflection is the more strongly polarised source (larger amplitude over
  mean of its sinusoid): glass polarises reflected light far more than
  transmitted light.

Colour channels are separated independently. FastICA is scikit-learn's.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ..canonical import fit_matrix


def _separate(channel: np.ndarray, fit: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import FastICA
    from sklearn.exceptions import ConvergenceWarning

    n = channel.shape[0]
    x = channel.reshape(n, -1).T.astype(np.float64)  # pixels x observations
    ica = FastICA(n_components=2, whiten="unit-variance", random_state=seed, max_iter=1000, tol=1e-5)
    with warnings.catch_warnings():  # data breaking ICA's model may not converge: still the method's answer
        warnings.simplefilter("ignore", ConvergenceWarning)
        sources = ica.fit_transform(x)  # centred sources
    mixing = ica.mixing_  # (n, 2)
    sources = sources + np.linalg.lstsq(mixing, ica.mean_, rcond=None)[0]
    coefficients = fit @ mixing  # (3, 2): (a, b, c) of each source's contribution over φ
    sign = np.sign(coefficients[0])
    sign[sign == 0] = 1
    coefficients, sources = coefficients * sign, sources * sign
    peak = coefficients[0] + np.hypot(coefficients[1], coefficients[2])
    polarisation = np.hypot(coefficients[1], coefficients[2]) / np.maximum(np.abs(coefficients[0]), 1e-12)
    layers = sources * peak
    r, t = (0, 1) if polarisation[0] >= polarisation[1] else (1, 0)
    shape = channel.shape[1:]
    return layers[:, r].reshape(shape), layers[:, t].reshape(shape)


def farid_separation(images: np.ndarray, angles: Sequence[float], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(R̂, T̂) from polarisation images (N, H, W, C) at ``angles`` (radians) by ICA."""
    fit = fit_matrix(angles)
    pairs = [_separate(images[..., c], fit, seed) for c in range(images.shape[-1])]
    return (np.stack([p[0] for p in pairs], axis=-1).astype(np.float32),
            np.stack([p[1] for p in pairs], axis=-1).astype(np.float32))
