"""``mf bench sync``: alignment accuracy on held-out drives, per method, against ground truth.

Drives are rendered from routes of ``HELD_OUT_PHOTOS`` (never seen in
training), each with its own appearance, so pairs are cross-appearance. Every
pair of drives is aligned by every method:

- pairs that share at least ``MIN_OVERLAP_SECONDS`` of road are scored: the
  share of their overlapping frames of A mapped within ±1 and ±4 frames of a
  correct frame of B, the share of mapped frames that are right (±4), the same
  for frames mapped with confidence above 0 (outside long tour gaps), how well
  ``confidence`` ranks right mapped frames above wrong ones (the area under its
  ROC curve, pooled over pairs; every frame of a false tour is wrong), and the
  start and end errors of the found tour (seconds);
- the representation alone, before any matcher: the share of overlapping
  coarse frames of A whose cheapest coarse frame of B in the de-correlated cost
  matrix is within one coarse step of a right one ("nearest right"). It
  tells a weak descriptor from a weak tour;
- pairs that share no road count the false tours a method reports.

The network is compared on its place features (:mod:`mf_sync.network`); one
more row repeats the shipped network on its descriptors, as the thesis
matches, to show what the place features add, and one with SIFT matches added
to the costs of its full-rate band (:mod:`mf_sync.fused`, what ``mf run sync``
does by default). The targets are read for the network's own row and for
that one.

Methods: SeqSLAM-style patch-normalised pixels and SIFT match histograms
through the same tour matcher, and the network (shipped weights, ``--weights``,
and one row per ``--iteration NAME=WEIGHTS``). Seconds per stage are means
per pair (describe: per frame). The last table times the coarse tour of two
35-minute 30 fps videos (6,300 x 6,300 coarse costs) from simulated
descriptors, the thesis's 2-second claim.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from sklearn.metrics import roc_auc_score

from mfcore import InputError, RunContext
from mfcore.kit import environment, parse_named_paths, write_image, write_markdown

from .align import Alignment, Stopwatch, coarse_tour
from .clips import cut_clips
from .costs import cost_matrix, decorrelate
from .figures import cost_image
from .methods import LABELS, Method, align_features, video_features
from .model_io import SHIPPED, load_descriptor_net
from .simulated import PlaceDescriptors, drive_positions
from .synthesis import render_collection
from .tour import match_tour
from .truth import Truth, alignment_errors, coarse_truth, ground_truth_ranges, mapped_right

MIN_OVERLAP_SECONDS = 10.0
#: The ablation row: the shipped network matched on its descriptors, as the thesis matches (4.3.3, 4.3.4).
ON_DESCRIPTORS = "mf_sync network on its descriptors (thesis)"
#: The shipped network with SIFT matches in its full-rate band (``mf run sync``'s default).
FUSED = "mf_sync network, SIFT matches in the band (mf run sync)"


def _drive_folder(drives: Path | None, routes: int, per_route: int, length: float, seed: int, quiet: bool,
                  scratch: Path) -> tuple[Path, dict[str, Any]]:
    if drives is not None:
        manifest_path = drives / "drives.json"
        if not manifest_path.is_file():
            raise InputError(f"{drives}: no drives.json (render drives with `mf synth sync --pool held-out`)")
        return drives, json.loads(manifest_path.read_text())
    manifest = render_collection(scratch, routes, per_route, length, "held-out", 0.4, (192, 128), 30.0, 2, seed,
                                 quiet)
    return scratch, manifest


def _pairs(folder: Path, names: list[str], fps: float) -> tuple[list[tuple[int, int, list]], list[tuple[int, int]]]:
    """Overlapping pairs (with their ground-truth ranges) and disjoint pairs of drives."""
    truths = [Truth.read(folder / f"{n}.truth.csv") for n in names]
    overlapping, disjoint = [], []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            ranges = ground_truth_ranges(truths[i], truths[j])
            shared = sum(r is not None for r in ranges)
            if shared >= MIN_OVERLAP_SECONDS * fps:
                overlapping.append((i, j, ranges))
            elif shared == 0:
                disjoint.append((i, j))
    return overlapping, disjoint


def nearest_right(coarse_costs: np.ndarray, ranges: list[tuple[int, int] | None], step: int = 10) -> np.ndarray:
    """Per overlapping coarse frame of A: is B's cheapest coarse frame within one coarse step of a right one?"""
    rows = [f for f in range(0, min(len(ranges), step * len(coarse_costs)), step) if ranges[f] is not None]
    lo, hi = np.array([ranges[f] for f in rows]).reshape(-1, 2).T
    cheapest = coarse_costs[np.asarray(rows, np.int64) // step].argmin(axis=1) * step
    return (cheapest >= lo - step) & (cheapest <= hi + step)


def _score(results: dict[tuple[int, int], Alignment], overlapping: list, disjoint: list, frames: int,
           describe_seconds: float, fps: float) -> dict[str, Any]:
    within1 = within4 = total = 0.0
    precision, confident, starts, ends, found, nearest = [], [], [], [], 0, []
    rated = [(results[p].confidence, np.zeros(len(results[p].confidence), bool)) for p in disjoint]  # all wrong
    for i, j, ranges in overlapping:
        result = results[(i, j)]
        nearest.append(nearest_right(result.coarse_costs, ranges, result.step))
        rated.append((result.confidence, mapped_right(ranges, result.frames_a, result.frames_b)))
        scores = alignment_errors(ranges, result.frames_a, result.frames_b)
        n = scores["overlap_frames"]
        total += n
        within1 += scores["within_1"] * n
        within4 += scores["within_4"] * n
        if result.found:
            found += 1
            precision.append(scores["precision_4"])
            sure = result.confidence > 0
            if sure.any():
                confident.append(alignment_errors(ranges, result.frames_a[sure], result.frames_b[sure])["precision_4"])
            starts.append(scores["start_error"] / fps)
            ends.append(scores["end_error"] / fps)
    stages = {}
    for stage in ("costs", "decorrelate", "tour", "fine"):
        values = [r.seconds[stage] for r in results.values() if stage in r.seconds]
        stages[f"{stage} (s/pair)"] = round(float(np.mean(values)), 3) if values else "-"
    return {
        "nearest right": f"{np.concatenate(nearest).mean():.1%}",
        "within ±1": f"{within1 / max(total, 1):.1%}", "within ±4": f"{within4 / max(total, 1):.1%}",
        "mapped right (±4)": f"{np.mean(precision):.1%}" if precision else "-",
        "confident right (±4)": f"{np.mean(confident):.1%}" if confident else "-",
        "tours found": f"{found}/{len(overlapping)}",
        "false tours": f"{sum(results[p].found for p in disjoint)}/{len(disjoint)}",
        "confidence AUC (±4)": _confidence_auc(rated),
        "start error (s)": round(float(np.median(starts)), 2) if starts else "-",
        "end error (s)": round(float(np.median(ends)), 2) if ends else "-",
        "describe (ms/frame)": round(1000 * describe_seconds / frames, 2), **stages,
    }


def _confidence_auc(rated: list[tuple[np.ndarray, np.ndarray]]) -> float | str:
    """How well ``confidence`` tells right mapped frames (±4) from wrong ones, pooled over pairs: the area under
    the ROC curve (1: every right frame more confident than every wrong one; 0.5: no better than chance)."""
    confidence = np.concatenate([c for c, _ in rated]) if rated else np.zeros(0)
    right = np.concatenate([r for _, r in rated]) if rated else np.zeros(0, bool)
    if right.all() or not right.any():
        return "-"
    return round(float(roc_auc_score(right, confidence)), 3)


def _run_method(folder: Path, names: list[str], method: Method, model: Any, overlapping: list,
                disjoint: list, descriptors: bool = False, fused: bool = False
                ) -> tuple[dict[str, Any], dict[tuple[int, int], Alignment], float]:
    """One table row. ``descriptors``: the network matched on its descriptors (the thesis's way); ``fused``:
    SIFT matches in the full-rate band (SIFT streamed from the videos: its seconds count in the fine stage)."""
    features, describe_seconds, frames, fps = [], 0.0, 0, 30.0
    for name in names:
        feats, fps, seconds = video_features(folder / f"{name}.mp4", method, model, descriptors)
        features.append(feats)
        describe_seconds += seconds
        frames += len(feats)

    def align(i: int, j: int) -> Alignment:
        videos = (folder / f"{names[i]}.mp4", folder / f"{names[j]}.mp4") if fused else None
        return align_features(features[i], features[j], fps, videos=videos)

    results = {(i, j): align(i, j) for i, j, _ in overlapping}
    results.update({(i, j): align(i, j) for i, j in disjoint})
    row = _score(results, overlapping, disjoint, frames, describe_seconds, fps)
    return row, results, fps


def tour_timing(minutes: float = 35.0, fps: float = 30.0, step: int = 10, dim: int | None = None,
                seed: int = 0) -> dict:
    """Seconds to the coarse tour of two ``minutes``-long videos given (simulated) features (median of 3).

    ``dim`` defaults to the place features' (:data:`mf_sync.network.PLACE_DIM`), what videos are matched on.
    """
    from .network import PLACE_DIM

    dim = PLACE_DIM if dim is None else dim
    rng = np.random.default_rng(seed)
    places = PlaceDescriptors(seed, dim)
    speed = 11.0  # m/s on average: a 35-minute drive covers about 23 km
    length = minutes * 60 * speed
    a = drive_positions(rng, 0, length, fps, stops=20)[::step]
    b = drive_positions(rng, 0.1 * length, 1.1 * length, fps, stops=20)[::step]
    a = a[: int(minutes * 60 * fps / step)]
    b = b[: int(minutes * 60 * fps / step)]
    da, db = places(a, rng), places(b, rng)
    warm_up = decorrelate(cost_matrix(da[:200], db[:200]), overwrite=True)
    match_tour(warm_up, fps / step)  # loads the compiled path search
    runs = []
    for _ in range(3):
        watch = Stopwatch()
        tour, _ = coarse_tour(lambda: cost_matrix(da, db), fps / step, watch)
        runs.append((sum(watch.values()), dict(watch), tour))
    _, times, tour = sorted(runs, key=lambda r: r[0])[1]  # the median of three runs
    error = np.abs(a[tour.rows] - b[tour.cols]) if tour is not None else np.array([np.inf])
    return {"matrix": f"{len(a)} x {len(b)}", "dim": dim, **{f"{k} (s)": round(v, 3) for k, v in times.items()},
            "total (s)": round(sum(times.values()), 3), "tour points": 0 if tour is None else len(tour),
            "within 2 coarse frames": f"{np.mean(error <= 2 * speed * step / fps):.1%}"}


def _figure(pair: tuple[int, int, list], rows: dict[str, dict], path: Path) -> None:
    """Coarse cost matrices of one pair, one panel per method: tour red, ground truth green."""
    i, j, ranges = pair
    truth = coarse_truth(ranges)
    panels = []
    for label, results in rows.items():
        result = results[(i, j)]
        panels.append(cost_image(result.coarse_costs, result.tour, truth))
        panels.append(np.ones((panels[-1].shape[0], 6, 3), np.float32))
    write_image(path, np.concatenate(panels[:-1], axis=1))


def bench(
    ctx: RunContext,
    drives: Annotated[Path | None, typer.Option(help="Folder of held-out drives from `mf synth sync --pool "
                                                     "held-out` (default: render them, 3 routes x 3 drives).")]
    = None,
    routes: Annotated[int, typer.Option(min=1, help="Routes to render when --drives is not given.")] = 3,
    per_route: Annotated[int, typer.Option("--drives-per-route", min=2, help="Drives per route to render.")] = 3,
    length: Annotated[float, typer.Option(min=100.0, help="Route length (m) to render.")] = 500.0,
    weights: Annotated[Path | None, typer.Option(help="Network weights (default: the shipped ones).")] = None,
    iteration: Annotated[list[str] | None, typer.Option(help="NAME=WEIGHTS of the network after a tabula-rasa "
                                                             "iteration (repeatable, in order), e.g. "
                                                             "iter0=runs/sync/iter0.weights.h5.")] = None,
    baselines: Annotated[bool, typer.Option(help="Include the SeqSLAM and SIFT baselines.")] = True,
    markdown: Annotated[Path | None, typer.Option(help="Write the tables to this Markdown file.")] = None,
    figure: Annotated[Path | None, typer.Option(help="Write the cost matrices of one pair (PNG).")] = None,
    clips: Annotated[int, typer.Option(min=0, help="Pairs of short clips cut from the drives (3-8 s of shared road, "
                                                   "and as many sharing none) aligned as well.")] = 12,
) -> dict[str, Any]:
    """SeqSLAM, SIFT and the network on held-out cross-appearance drives, and the coarse-tour timing."""
    iterations = parse_named_paths(iteration or [], "--iteration", "iter0=runs/sync/iter0.weights.h5")
    with_net = weights is not None or SHIPPED.is_file()
    with tempfile.TemporaryDirectory(prefix="mf-sync-bench-") as scratch:
        folder, manifest = _drive_folder(drives, routes, per_route, length, ctx.seed, ctx.json, Path(scratch))
        names = [d["name"] for d in manifest["drives"]]
        fps = float(manifest.get("fps", 30.0))
        overlapping, disjoint = _pairs(folder, names, fps)
        if not overlapping:
            raise InputError(f"{folder}: no two drives share {MIN_OVERLAP_SECONDS:.0f} s of road")
        runs: list[tuple[str, Method, Any]] = []
        if baselines:
            runs += [(LABELS[Method.seqslam], Method.seqslam, None), (LABELS[Method.sift], Method.sift, None)]
        for name, path in iterations.items():
            runs.append((f"network after {name}", Method.net, load_descriptor_net(ctx, path)[0]))
        card: dict[str, Any] = {}
        if with_net:
            net, card = load_descriptor_net(ctx, weights or SHIPPED)
            runs.append((LABELS[Method.net], Method.net, net))
        rows, all_results = [], {}
        for label, method, model in runs:
            row, all_results[label], _ = _run_method(folder, names, method, model, overlapping, disjoint)
            rows.append({"method": label, **row})
        if with_net:
            row, _, _ = _run_method(folder, names, Method.net, net, overlapping, disjoint, fused=True)
            rows.append({"method": FUSED, **row})
            row, _, _ = _run_method(folder, names, Method.net, net, overlapping, disjoint, descriptors=True)
            rows.append({"method": ON_DESCRIPTORS, **row})
        if figure is not None:
            _figure(overlapping[0], all_results, figure)
        clip_rows = _clip_rows(folder, names, overlapping, disjoint, fps, clips, ctx.seed, runs, Path(scratch),
                               net if with_net else None)
    timing = [tour_timing(seed=ctx.seed)]
    targets = _targets(rows, timing[0], list(iterations), with_net) + _clip_targets(clip_rows)
    weights_name = str(weights or ("shipped sync.weights.h5" if with_net else "none"))
    command = ("mf bench sync" + (f" --drives {drives}" if drives else f" --routes {routes} --drives-per-route "
                                  f"{per_route} --length {length:g}")
               + (f" --weights {weights}" if weights else "") + "".join(f" --iteration {i}" for i in iteration or [])
               + ("" if baselines else " --no-baselines") + f" --clips {clips} --backend {ctx.backend.name}")
    env = environment(("mf-core", "mf-sync", "keras", "torch", "tensorflow", "numpy", "opencv-python-headless",
                       "scikit-learn"))
    if markdown is not None:
        routes_made = manifest.get("routes", [])
        source = (f" Rendered by `mf synth sync -o DIR --routes {len(routes_made)} --drives "
                  f"{len(names) // max(1, len(routes_made))} --length {routes_made[0]['length']:g} --pool "
                  f"{manifest.get('pool', 'held-out')} --seed {manifest.get('seed', 0)}`." if routes_made else "")
        note = (f"{len(names)} held-out drives ({len(overlapping)} overlapping pairs, {len(disjoint)} pairs with no "
                f"shared road); every drive has its own appearance.{source} Weights: {weights_name} "
                f"(width {card.get('width')}, preset {card.get('preset', '?')}).")
        picture = "" if figure is None else (f"\n\n![cost matrices]({figure.name})\n\nDe-correlated coarse cost "
                                             "matrices of one pair (rows: A, columns: B; dark = similar), one "
                                             "panel per method in table order; red: the tour found, green: "
                                             "ground truth.")
        sections = [("Targets", "", targets), ("Alignment of held-out drives", note + picture, rows),
                    ("Coarse tour of two 35-minute videos", f"Simulated {timing[0]['dim']}-d place features of two "
                     "35-minute drives at 30 fps (every 10th frame), overlapping by 90 %.", timing)]
        if clip_rows:
            sections.insert(2, ("Short clips", CLIPS_NOTE, clip_rows))
        write_markdown(markdown, "Video synchronisation benchmark", command, env, sections)
    return {"command": command, **env, "targets": targets, "methods": rows, "clips": clip_rows, "timing": timing,
            "weights": weights_name}


CLIPS_NOTE = ("Pairs of clips cut from the drives above (:mod:`mf_sync.clips`, re-encoded): each overlapping pair "
              "shares 3-8 s of road and each clip runs on 0-3 s before and after it; the pairs with no shared road "
              "are 5-12 s clips of drives that never meet. Coarse step and a tour's shortest span follow the "
              "clips' length (`mf_sync.align.scale_for`).")


def _clip_rows(folder: Path, names: list[str], overlapping: list, disjoint: list, fps: float, count: int,
               seed: int, runs: list[tuple[str, Method, Any]], scratch: Path, net: Any) -> list[dict[str, Any]]:
    """The table of short clips: every method of ``runs`` (and the network with SIFT in its band, as ``mf run
    sync``) on ``count`` clip pairs cut from the drives."""
    if count == 0:
        return []
    out = scratch / "clips"
    out.mkdir()
    clip_names, over, apart = cut_clips(folder, names, overlapping, disjoint, fps, count, seed, out)
    if not over:
        return []
    rows = []
    for label, method, model in runs:
        row, _, _ = _run_method(out, clip_names, method, model, over, apart)
        rows.append({"method": label, **row})
    if net is not None:
        row, _, _ = _run_method(out, clip_names, Method.net, net, over, apart, fused=True)
        rows.append({"method": FUSED, **row})
    return rows


def _clip_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Short clips: ``mf run sync`` ≥ 80 % within ±4 (the issue's target) and no false tour."""
    by = {r["method"]: r for r in rows}
    row = by.get(FUSED)
    if row is None:
        return []
    within = _percent(row["within ±4"])
    false, pairs = (int(x) for x in row["false tours"].split("/"))
    return [{"target": "short clips (3-8 s shared): mf run sync ≥ 80 % of overlapping frames within ±4",
             "measured": row["within ±4"], "met": "yes" if within >= 80 else "no"},
            {"target": "short clips that share no road: no false tour", "measured": row["false tours"],
             "met": "yes" if false == 0 and pairs > 0 else "no"}]


def _percent(text: str) -> float:
    return float(text.rstrip("%")) if text != "-" else 0.0


def _targets(rows: list[dict[str, Any]], timing: dict[str, Any], iterations: list[str],
             with_net: bool) -> list[dict[str, Any]]:
    by = {r["method"]: r for r in rows}
    targets = [{"target": "coarse tour of two 35-min videos < 2 s (given descriptors)",
                "measured": f"{timing['total (s)']} s", "met": "yes" if timing["total (s)"] < 2 else "no"}]
    others = [by[LABELS[m]] for m in (Method.seqslam, Method.sift) if LABELS[m] in by]
    for name, label in (("network", LABELS[Method.net]), ("mf run sync (network, SIFT in the band)", FUSED)):
        row = by.get(label)
        if row is None or not with_net:
            continue
        within = _percent(row["within ±4"])
        targets.append({"target": f"{name}: ≥ 80 % of overlapping frames within ±4", "measured": row["within ±4"],
                        "met": "yes" if within >= 80 else "no"})
        if others:
            best = max(_percent(o["within ±4"]) for o in others)
            targets.append({"target": f"{name} beats both baselines (within ±4)",
                            "measured": f"{within:.1f} % vs {best:.1f} %", "met": "yes" if within > best else "no"})
    series = [by[f"network after {name}"]["within ±4"] for name in iterations]
    if len(series) > 1:
        values = [_percent(s) for s in series]
        targets.append({"target": "each tabula-rasa iteration improves (within ±4)", "measured": " → ".join(series),
                        "met": "yes" if all(b > a for a, b in zip(values, values[1:])) else "no"})
    return targets
