"""Fourier Burst Accumulation (Delbracio & Sapiro 2015; thesis eq. 6.8-6.9).

Camera shake attenuates each frame's Fourier coefficients differently, but
never amplifies them: in every frequency the frame with the largest magnitude
is the least blurred there. FBA therefore fuses the aligned burst in the Fourier
domain with per-frequency weights

    w_i(ζ) = |v̂_i(ζ)|^p / Σ_j |v̂_j(ζ)|^p,

where |v̂_i| is the magnitude averaged over colour channels and smoothed with a
Gaussian (std ``sigma`` frequency samples) so the weights do not follow noise.
``p = 0`` is the plain average of the frames; ``p → ∞`` picks, per frequency,
the strongest frame.

Written once against the array API, so the same code runs on NumPy, PyTorch and
CuPy arrays.
"""

from __future__ import annotations

from typing import Any

from array_api_compat import array_namespace, device


def default_sigma(height: int, width: int) -> float:
    """The smoothing the FBA paper uses: std of min(H, W) / 50 frequency samples."""
    return min(height, width) / 50.0


def gaussian_transfer(n: int, sigma: float, xp: Any, dev: Any) -> Any:
    """DFT of a sampled, periodic, unit-sum Gaussian of std ``sigma`` over ``n`` samples."""
    offsets = xp.fft.fftfreq(n, d=1.0 / n, device=dev)  # 0, 1, ..., -1: circular distances
    kernel = xp.exp(-(offsets**2) / (2.0 * sigma**2))
    return xp.real(xp.fft.fft(kernel / xp.sum(kernel)))


def _smooth_spectrum(magnitude: Any, sigma: float, xp: Any) -> Any:
    """Gaussian-smooth (..., H, W) magnitudes over the periodic frequency grid.

    The circular convolution is done as a product with the kernel's DFT (separable),
    exactly the sampled Gaussian filter the FBA paper applies, at the cost of two
    (H, W) FFTs instead of a 6σ-wide spatial filter.
    """
    h, w = magnitude.shape[-2:]
    dev = device(magnitude)
    transfer = gaussian_transfer(h, sigma, xp, dev)[:, None] * gaussian_transfer(w, sigma, xp, dev)[None, :]
    transfer = xp.astype(transfer, magnitude.dtype)
    return xp.real(xp.fft.ifftn(xp.fft.fftn(magnitude, axes=(-2, -1)) * transfer, axes=(-2, -1)))


def fba_weights(spectra: Any, p: float, sigma: float | None, xp: Any) -> Any:
    """Per-frame, per-frequency weights (N, H, W) from spectra of shape (N, C, H, W)."""
    magnitude = xp.mean(xp.abs(spectra), axis=1)
    if sigma is None:
        sigma = default_sigma(*magnitude.shape[-2:])
    if sigma > 0:
        magnitude = _smooth_spectrum(magnitude, sigma, xp)
    # Normalise by the per-frequency maximum before the power: |v̂|^p overflows float32
    # for p = 11 at any image size, the ratio in (0, 1] cannot.
    tiny = xp.finfo(magnitude.dtype).tiny
    magnitude = xp.clip(magnitude, min=0.0)
    ratio = (magnitude + tiny) / (xp.max(magnitude, axis=0, keepdims=True) + tiny)
    weights = ratio**p
    return weights / xp.sum(weights, axis=0, keepdims=True)


def fba(frames: Any, p: float = 11.0, sigma: float | None = None) -> Any:
    """Fuse an aligned burst of shape (N, H, W, C) into one image (H, W, C).

    ``frames`` may be a NumPy, PyTorch or CuPy array; the result has the same type,
    device and real dtype. ``sigma=None`` uses :func:`default_sigma`, ``sigma=0``
    disables the smoothing of the weights.
    """
    xp = array_namespace(frames)
    if frames.ndim != 4:
        raise ValueError(f"fba expects frames of shape (N, H, W, C), got {tuple(frames.shape)}")
    if p < 0:
        raise ValueError(f"fba needs p >= 0, got {p}")
    x = xp.permute_dims(frames, (0, 3, 1, 2))
    spectra = xp.fft.fftn(x, axes=(-2, -1))
    weights = fba_weights(spectra, p, sigma, xp)
    fused = xp.sum(xp.astype(weights[:, None, :, :], spectra.dtype) * spectra, axis=0)
    image = xp.real(xp.fft.ifftn(fused, axes=(-2, -1)))
    return xp.astype(xp.permute_dims(image, (1, 2, 0)), frames.dtype)
