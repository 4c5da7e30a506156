"""The ``reflect`` section of ``mf demo``: held-out synthetic captures separated by every method, scored."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mfcore import DemoSection, RunContext
from mfcore.kit import figure, network_available, psnr, table

from .methods import LABELS, LEARNED, Method, separate_with
from .model_io import SHIPPED, load_separation_net
from .synthesis import reflection_sample


def demo(ctx: RunContext, folder: Path) -> DemoSection:
    """Held-out synthetic captures (curved glass, scene motion): every method against the true layers."""
    rng = np.random.default_rng(ctx.seed)
    model = load_separation_net(ctx)[0] if network_available(ctx, SHIPPED) else None
    methods = [Method.canonical, Method.schechner, Method.pane, Method.farid] + (list(LEARNED) if model is not None else [])
    rows, figures, metrics = [], [], {}
    show = lambda x: np.clip(x, 0, 1) ** (1 / 2.2)  # noqa: E731  (linear data, shown gamma-encoded)
    for case in range(3):
        s = reflection_sample(rng, size=192, images="held-out")
        label = f"triple {case + 1}"
        cells = [figure(folder, f"reflect{case}_obs{i}", show(o), f"{label}: I at {a:g}°")
                 for i, (o, a) in enumerate(zip(s["observations"], np.degrees(s["angles"])))]
        cells += [figure(folder, f"reflect{case}_true_t", show(s["transmission"]), "true T"),
                  figure(folder, f"reflect{case}_true_r", show(s["reflection"]), "true R")]
        metrics[label] = {}
        for m in methods:
            r, t = separate_with(m, s["observations"], s["angles"].astype(np.float64), model)
            pt, pr = psnr(s["transmission"], t), psnr(s["reflection"], r)
            rows.append((label, LABELS[m], pt, pr))
            metrics[label][f"{m.value}_t_psnr"] = pt
            cells += [figure(folder, f"reflect{case}_{m.value}_t", show(t), f"{LABELS[m]} T̂ ({pt:.2f} dB)"),
                      figure(folder, f"reflect{case}_{m.value}_r", show(r), f"{LABELS[m]} R̂ ({pr:.2f} dB)")]
        figures.append("<div>" + "".join(cells) + "</div>")
    note = "" if model is not None else " (no network: install mf-backend-torch)"
    html = ("<p>Polarisation triples (0°, 45°, 90°) synthesised from photographs held out of training, through "
            "curved glass with scene motion between shots, separated by each method" + note + ", on the <b>"
            f"{ctx.backend.name}</b> backend. Linear images shown with gamma 2.2.</p>" + "".join(figures)
            + table(("case", "method", "T̂ PSNR (dB)", "R̂ PSNR (dB)"), rows))
    return DemoSection("Reflection and transmission from polarisation", html, metrics)
