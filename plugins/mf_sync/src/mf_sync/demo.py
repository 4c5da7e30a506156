"""The sync section of ``mf demo``: two held-out drives of one route in different appearances, aligned."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mfcore import DemoSection, RunContext
from mfcore.kit import figure, network_available, read_video, table

from .figures import cost_image
from .methods import LABELS, Method, align_features, video_features
from .model_io import SHIPPED, load_descriptor_net
from .synthesis import render_collection
from .truth import Truth, alignment_errors, coarse_truth, ground_truth_ranges


def demo(ctx: RunContext, folder: Path) -> DemoSection:
    """Render one held-out route twice (different light, season, speed), align with each method, score."""
    with tempfile.TemporaryDirectory(prefix="mf-sync-demo-") as scratch:
        return _demo(ctx, folder, Path(scratch))


def _demo(ctx: RunContext, folder: Path, drives: Path) -> DemoSection:
    manifest = render_collection(drives, 1, 2, 600.0, "held-out", 0.0, (192, 128), 30.0, 2, ctx.seed + 7, True)
    names = [d["name"] for d in manifest["drives"]]
    truths = [Truth.read(drives / f"{n}.truth.csv") for n in names]
    ranges = ground_truth_ranges(*truths)
    model = load_descriptor_net(ctx)[0] if network_available(ctx, SHIPPED) else None
    methods = [Method.seqslam, Method.sift] + ([Method.net] if model is not None else [])
    rows, cells, metrics = [], [], {}
    frames = [read_video(drives / f"{n}.mp4") for n in names]
    for method in methods:
        (fa, fps, _), (fb, _, _) = (video_features(drives / f"{n}.mp4", method, model) for n in names)
        videos = (drives / f"{names[0]}.mp4", drives / f"{names[1]}.mp4") if method is Method.net else None
        result = align_features(fa, fb, fps, videos=videos)  # the network as `mf run sync` runs it
        scores = alignment_errors(ranges, result.frames_a, result.frames_b)
        rows.append((LABELS[method], "yes" if result.found else "no", f"{scores['within_1']:.1%}",
                     f"{scores['within_4']:.1%}"))
        metrics[LABELS[method]] = {"within_4": round(scores["within_4"], 4), "found": result.found}
        image = cost_image(result.coarse_costs, result.tour, coarse_truth(ranges))
        cells.append(figure(folder, f"sync_costs_{method.value}", image,
                            f"{LABELS[method]}: coarse costs, tour (red), truth (green)"))
        if method is methods[-1] and result.found:
            picks = np.linspace(0, len(result.frames_a) - 1, 4).astype(int)
            pairs = [np.concatenate([frames[0][result.frames_a[k]],
                                     frames[1][int(round(result.frames_b[k]))]], axis=1) for k in picks]
            cells.append(figure(folder, "sync_pairs", np.concatenate(pairs, axis=0),
                                f"{LABELS[method]}: frames of A (left) and the frames of B matched to them"))
    note = "" if model is not None else " (no network: install mf-backend-torch)"
    html = ("<p>Two drives rendered along one route of held-out photographs, each with its own speed profile, "
            "season, light and weather, aligned by each method" + note + f" on the <b>{ctx.backend.name}</b> "
            "backend (the network with SIFT matches in its full-rate band, as <code>mf run sync</code> runs it) and "
            "scored against the rendered ground truth (share of overlapping frames within ±1 and ±4 frames).</p>"
            + "<div>" + "".join(cells) + "</div>"
            + table(("method", "tour found", "within ±1", "within ±4"), rows))
    return DemoSection("Video synchronisation", html, metrics)
