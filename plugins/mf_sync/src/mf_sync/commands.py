"""``mf run sync``: align two videos, write the frame mapping, optionally render them side by side.

Exit codes: 0 the videos were aligned; 3 no matching tour was found (a result:
the videos show no common stretch the method can see; nothing is written but
the answer); 1 bad input (one line on stderr).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import RunContext, atomic_path, check_writable_dir, emit
from mfcore.kit import iter_video, write_video

from .align import Alignment, scale_for
from .fused import MIN_RATIO_SHARE
from .methods import Band, Method, align_features, video_features
from .model_io import SHIPPED, load_descriptor_net

NO_TOUR_EXIT = 3


def write_alignment(path: Path, result: Alignment) -> None:
    """CSV: frame of A, matching frame of B (rounded and exact), confidence in [0, 1]."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame_a", "frame_b", "frame_b_exact", "confidence"])
        for a, b, c in zip(result.frames_a, result.frames_b, result.confidence):
            writer.writerow([int(a), int(round(b)), f"{b:.2f}", f"{c:.3f}"])


def render_side_by_side(path: Path, video_a: Path, video_b: Path, result: Alignment, fps: float) -> Path:
    """A video of A's aligned frames beside the matching frames of B, both streamed (B never goes back)."""
    wanted = dict(zip(result.frames_a.tolist(), np.round(result.frames_b).astype(int).tolist()))

    def frames() -> Any:
        b_frames, b_index, b_frame = iter_video(video_b), -1, None
        for index, frame in enumerate(iter_video(video_a)):
            if index not in wanted:
                continue
            while b_index < wanted[index]:
                b_frame, b_index = next(b_frames, b_frame), b_index + 1
            other = b_frame
            if other.shape[:2] != frame.shape[:2]:
                import cv2

                other = cv2.resize(other, (round(other.shape[1] * frame.shape[0] / other.shape[0]), frame.shape[0]))
            yield np.concatenate([frame, other], axis=1)

    return write_video(path, frames(), fps)


def run(
    ctx: RunContext,
    video_a: Annotated[Path, typer.Argument(help="Reference video A.")],
    video_b: Annotated[Path, typer.Argument(help="Video B to align to A.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Alignment CSV: frame_a, frame_b, "
                                                                "frame_b_exact, confidence.")] = Path("alignment.csv"),
    render: Annotated[Path | None, typer.Option(help="Also write A and B side by side, synchronised (.mp4).")]
    = None,
    method: Annotated[Method, typer.Option(help="Frame representation: the network (default), seqslam or sift.")]
    = Method.net,
    weights: Annotated[Path, typer.Option(help="Descriptor network weights (with their card).")] = SHIPPED,
    band: Annotated[Band, typer.Option(help="With the network: cost the full-rate band around its tour with SIFT "
                                            "matches added (fused, more precise frames) or the network alone (net, "
                                            "as the thesis).")] = Band.fused,
    min_overlap: Annotated[float | None, typer.Option(min=0.1, help="Shortest overlap (s) accepted as a matching "
                                                                    "tour [default: 10 s, or a quarter of the "
                                                                    "shorter video when that is less].")] = None,
) -> dict[str, Any]:
    """Synchronise two videos of the same route: frame mapping with confidence (exit 3: no matching tour)."""
    check_writable_dir(output)
    if render is not None:
        check_writable_dir(render)
    model = load_descriptor_net(ctx, weights)[0] if method is Method.net else None
    features_a, fps_a, seconds_a = video_features(video_a, method, model)
    features_b, fps_b, seconds_b = video_features(video_b, method, model)
    fused = method is Method.net and band is Band.fused
    fps = min(fps_a, fps_b)
    scale = scale_for((len(features_a), len(features_b)), fps, min_overlap)
    result = align_features(features_a, features_b, fps, scale, videos=(video_a, video_b) if fused else None)
    seconds = {"describe": round(seconds_a + seconds_b, 3), **{k: round(v, 3) for k, v in result.seconds.items()}}
    if not result.found:
        why = f"no matching tour of {scale.min_seconds:g} s or more found"
        if result.sift_share is not None:
            why = (f"the only tour found was dropped: {result.sift_share:.3f} of its frames' SIFT keypoints match "
                   f"in the frames they map to, under {MIN_RATIO_SHARE:g}")
        emit({"result": why, "method": method.value, "seconds": seconds}, ctx.json)
        raise typer.Exit(NO_TOUR_EXIT)
    write_alignment(output, result)
    summary = {"alignment": str(output), "method": method.value, "frames_aligned": len(result.frames_a),
               "a_range": [int(result.frames_a[0]), int(result.frames_a[-1])],
               "b_range": [int(round(result.frames_b[0])), int(round(result.frames_b[-1]))],
               "mean_confidence": round(float(np.mean(result.confidence)), 3), "seconds": seconds}
    if method is Method.net:
        summary["band"] = band.value
    if result.sift_share is not None:
        summary["sift_share"] = round(result.sift_share, 3)
    if render is not None:
        summary["render"] = str(render_side_by_side(render, video_a, video_b, result, fps_a))
    return summary
