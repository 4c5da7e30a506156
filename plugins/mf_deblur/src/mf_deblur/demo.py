"""The ``deblur`` section of ``mf demo``: bursts of held-out photos deblurred by FBA, the RDN and FourierNet,
scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mfcore import DemoSection, RunContext
from mfcore.kit import crop, figure, load_model, network_available, photo, psnr, ssim, table

from .evaluation import rdn_burst
from .fourier_inference import restore_burst
from .methods import deblur_burst
from .model_io import FOURIERNET, SHIPPED_BURST, load_rdn
from .synthesis.burst import synthesize_burst
from .synthesis.kernels import SIZES, gp_kernel, kernel_sheet

DEMO_PHOTOS = ("chelsea", "sklearn:flower.jpg", "camera")  # held out from training


def _label(name: str) -> str:
    return name.split(":")[-1].split(".")[0]


def demo(ctx: RunContext, folder: Path) -> DemoSection:
    """5-frame camera-shake bursts of held-out photos: target frame, mean, FBA, the RDN and FourierNet, scored."""
    rng = np.random.default_rng(ctx.seed)
    model, card = load_rdn(ctx, SHIPPED_BURST) if network_available(ctx, SHIPPED_BURST) else (None, {})
    fourier = load_model(FOURIERNET, ctx)[0] if network_available(ctx, FOURIERNET.weights) else None
    rows, figures, metrics = [], [], {}
    for name in DEMO_PHOTOS:
        label = _label(name)
        sharp = crop(photo(name), 256)
        burst, _ = synthesize_burst(sharp, rng, frames=5, noise=0.01)
        results = {"target frame": burst[0], "mean of frames": burst.mean(axis=0),
                   "FBA (p=11)": np.clip(deblur_burst(ctx, burst, p=11.0, sigma=None), 0, 1)}
        if model is not None:
            results["RDN"] = rdn_burst(model, card, burst)
        if fourier is not None:
            results["FourierNet"] = restore_burst(fourier, burst, results["FBA (p=11)"])
        scores = {key: (psnr(sharp, image), ssim(sharp, image)) for key, image in results.items()}
        rows += [(label, key, a, b) for key, (a, b) in scores.items()]
        metrics[label] = {"target_psnr": scores["target frame"][0], "mean_psnr": scores["mean of frames"][0],
                          "fba_psnr": scores["FBA (p=11)"][0], "fba_ssim": scores["FBA (p=11)"][1]}
        if model is not None:
            metrics[label].update(rdn_psnr=scores["RDN"][0], rdn_ssim=scores["RDN"][1])
        if fourier is not None:
            metrics[label].update(fouriernet_psnr=scores["FourierNet"][0], fouriernet_ssim=scores["FourierNet"][1])
        slug = {"target frame": "target", "mean of frames": "mean", "FBA (p=11)": "fba", "RDN": "rdn",
                "FourierNet": "fouriernet"}
        figures.append("<div>" + figure(folder, f"{label}_sharp", sharp, f"{label}: sharp") + "".join(
            figure(folder, f"{label}_{slug[key]}", image, f"{key} ({scores[key][0]:.2f} dB)")
            for key, image in results.items()) + "</div>")
    kernels = kernel_sheet([gp_kernel(rng, SIZES[i % len(SIZES)]) for i in range(16)])
    method = "the Recurrent Deblur Network" if model is not None else "FBA (no RDN: install mf-backend-torch)"
    html = ("<p>5-frame bursts of photos held out from training, each frame shaken by its own Gaussian-process "
            f"kernel (sizes 7-17 px) with noise σ=0.01, deblurred by {method}, on the <b>{ctx.backend.name}</b> "
            "backend. The RDN's burst weights refine FBA's fusion of the burst with its sharpest frame, as "
            "<code>mf run deblur</code> does. FourierNet (thesis 6.2, <code>--method fouriernet</code>) restores "
            "each 33×33 patch from the burst's 65×65 patches around it and fuses them with a learnt FBA.</p>"
            + "".join(figures)
            + table(("photo", "image", "PSNR (dB)", "SSIM"), rows)
            + figure(folder, "kernels", kernels, "Camera-shake kernels drawn from the GP (fig. 6.3)"))
    return DemoSection("Burst deblurring (RDN, FourierNet and FBA)", html, metrics)
