"""``mf train sync``: tabula-rasa training of the descriptor network on a folder of videos, no annotations.

Each iteration generates labels with the network of the previous one
(:mod:`mf_sync.labels`) and trains on them with the triplet loss of eq. 4.2.
Iteration 0 knows nothing and uses frames near each other in one video;
iteration 1 adds the matching tours found between videos; iteration 2 and on
add the transitive ones. The run folder keeps each iteration's weights
(``iter<k>.weights.h5`` with their card), a cost-matrix picture per iteration
(the thesis's figure 4.5) and ``log.csv``; the last iteration's weights are
``sync.weights.h5``. ``--resume`` continues after the last finished iteration;
with a larger ``--iterations`` it extends a finished run by more iterations.

Ground truth is never read for training. When the videos were rendered by
``mf synth sync`` (``NAME.truth.csv`` beside them), the log reports how many of
the generated inter-video labels were correct: a diagnostic of the method only.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import InputError, RunContext, atomic_path, output_folder, stderr
from mfcore.kit import (
    LrOption,
    Preset,
    ResumeOption,
    StepsOption,
    WidthOption,
    import_tensorflow_quietly,
    keras_backend_for,
    save_inference_weights,
    step_progress,
    write_image,
)

from .bank import FrameBank, to_inputs, videos_in
from .costs import cost_matrix, decorrelate
from .figures import cost_image
from .labels import STEP, Pairs, Tours, TripletSampler, find_tours, intra_pairs, transitive_pairs
from .motion import travel as motion_travel
from .tour import match_tour
from .truth import Truth


@dataclass(frozen=True)
class Config:
    """Hyper-parameters of a run (saved in every card)."""

    width: float
    batch: int
    steps: int
    lr: float
    iterations: int
    refresh: int
    grid: int


PRESETS = {
    # A half-width network, 16 triplets per batch: a few minutes per iteration on a 2-core CPU. Two
    # iterations: a third (transitive labels) aligned validation drives worse (model card).
    Preset.cpu: Config(width=0.5, batch=16, steps=2000, lr=1e-3, iterations=2, refresh=500, grid=4),
    Preset.gpu: Config(width=1.0, batch=64, steps=20_000, lr=1e-3, iterations=4, refresh=2000, grid=4),
}


def coarse_descriptors(model: Any, bank: FrameBank) -> list[np.ndarray]:
    """The network's descriptors of every ``STEP``-th frame of every video."""
    from .network import describe

    return [describe(model, inputs) for inputs in bank.every(STEP)]


def places_of(model: Any, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The network's place features (what tours are sought in) of each array of prepared frames."""
    from .network import describe_places, grid_network

    grids = grid_network(model)
    return [describe_places(grids, frames) for frames in inputs]


def _truths(videos: list[Path]) -> list[Truth] | None:
    files = [v.with_name(v.stem + ".truth.csv") for v in videos]
    return [Truth.read(f) for f in files] if all(f.is_file() for f in files) else None


def label_precision(pairs: Pairs, truths: list[Truth] | None, metres: float = 2.0) -> float | None:
    """Share of positive pairs that show the same place (ground truth; reported, never trained on)."""
    if truths is None or not len(pairs):
        return None
    ok = [truths[a].routes[fa] == truths[b].routes[fb] and abs(truths[a].positions[fa] - truths[b].positions[fb])
          <= metres for a, fa, b, fb in zip(pairs.va, pairs.fa, pairs.vb, pairs.fb)]
    return float(np.mean(ok))


def _figure(model: Any, bank: FrameBank, path: Path) -> None:
    """Cost matrix of the first two videos with the network as it is now, and its tour."""
    a, b = places_of(model, [to_inputs(bank.frames[i][::STEP]) for i in (0, 1)])
    costs = decorrelate(cost_matrix(a, b), overwrite=True)
    write_image(path, cost_image(costs, match_tour(costs, min(bank.fps[:2]) / STEP)))


def intra_accuracy(model: Any, bank: FrameBank, seed: int, count: int = 256) -> float:
    """Share of fixed intra-video triplets (positive ≤ 15 frames, negative 600 away) ordered right; no truth."""
    from .network import describe

    rng = np.random.default_rng(seed)
    pairs = intra_pairs(bank.lengths(), count, rng)
    lengths = np.asarray(bank.lengths())[pairs.va]
    negatives = np.where(pairs.fa + 600 < lengths, pairs.fa + 600, pairs.fa - 600)
    usable = negatives >= 0
    if not usable.any():
        return float("nan")
    a, p, n = (describe(model, bank.get(pairs.va[usable], f[usable])) for f in (pairs.fa, pairs.fb, negatives))
    return float(np.mean(((a - p) ** 2).sum(1) < ((a - n) ** 2).sum(1)))


def _labels(iteration: int, model: Any, bank: FrameBank, rng: np.random.Generator) -> tuple[list[Pairs], Tours]:
    """The label kinds of an iteration; tours are sought in the previous network's place features, as
    ``mf run sync`` seeks them."""
    intra = intra_pairs(bank.lengths(), 50_000, rng)
    if iteration == 0:
        return [intra], Tours()
    tours = find_tours(places_of(model, bank.every(STEP)), bank.fps)
    kinds = [intra, tours.pairs()]
    if iteration >= 2:
        kinds.append(transitive_pairs(tours, len(bank)))
    return kinds, tours


def _write_csv(log: list[dict[str, Any]], path: Path) -> None:
    """One row per iteration, label counts flattened into columns."""
    rows = [{**{k: v for k, v in e.items() if k not in ("labels", "config")},
             **{f"labels_{k}": n for k, n in e["labels"].items()}} for e in log]
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _check_resumable(log: list[dict[str, Any]], config: Config, done: int, output: Path) -> None:
    """Refuse to resume a run with another configuration; more iterations than before extend a finished run."""
    started = dict(log[0].get("config", {})) if log else {}
    if {**started, "iterations": 0} != {**asdict(config), "iterations": 0}:
        raise InputError(f"{output}: the run was started with another configuration")
    if config.iterations < done:
        raise InputError(f"{output} already holds {done} iterations; --iterations {config.iterations} would "
                         "undo some")


def train(
    ctx: RunContext,
    videos: Annotated[Path, typer.Argument(help="Folder of training videos (e.g. from `mf synth sync --pool "
                                                "train`); no annotations are read.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Run folder.")] = Path("runs/sync"),
    preset: Annotated[Preset, typer.Option(help="cpu: half width, 2k steps per iteration; gpu: full width.")]
    = Preset.cpu,
    iterations: Annotated[int | None, typer.Option(min=1, help="Tabula-rasa iterations (default: the preset's).")]
    = None,
    steps: StepsOption = None,
    width: WidthOption = None,
    lr: LrOption = None,
    resume: ResumeOption = False,
    grid: Annotated[int | None, typer.Option(help="Rows of the descriptor's feature grid: 2 (2x3) or 4 (4x6, "
                                                  "the whole last feature map).")] = None,
) -> dict[str, Any]:
    """Train the frame-descriptor network by tabula-rasa iterations, with a cost-matrix picture per iteration."""
    overrides = {"steps": steps, "width": width, "lr": lr, "iterations": iterations, "grid": grid}
    config = Config(**{**asdict(PRESETS[preset]), **{k: v for k, v in overrides.items() if v is not None}})
    files = videos_in(videos)
    done = sorted(output.glob("iter*.weights.h5"))
    if done and not resume:
        raise InputError(f"{output} already holds a run; pass --resume to continue it or choose another --output")
    keras_name = keras_backend_for(ctx, "the descriptor network")
    import_tensorflow_quietly()
    import keras

    from .network import GRIDS, build_network, triplet_loss

    if config.grid not in GRIDS:
        raise InputError(f"--grid must be one of {GRIDS}, got {config.grid}")

    def build() -> Any:
        return build_network(config.width, grid=config.grid)

    keras.utils.set_random_seed(ctx.seed)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(config.lr), loss=triplet_loss)
    log: list[dict[str, Any]] = json.loads((output / "log.json").read_text()) if done else []
    if done:
        _check_resumable(log, config, len(done), output)
        model.load_weights(str(done[-1]))
    output_folder(output, "run folder")
    bank = FrameBank(files, quiet=ctx.json)
    truths = _truths(files)
    travel = [motion_travel(frames) for frames in bank.frames]
    rng = np.random.default_rng(ctx.seed + len(done))
    card = {"model": "frame-descriptor network (thesis 4.3.1)", "width": config.width, "dim": 128,
            "grid": config.grid, "preset": preset.value, "config": asdict(config), "keras_backend": keras_name,
            "videos": [f.name for f in files],
            "reproduce": f"mf train sync DIR --preset {preset.value} --backend {keras_name}"}
    for iteration in range(len(done), config.iterations):
        start = time.perf_counter()
        kinds, tours = _labels(iteration, model, bank, rng)
        coarse = coarse_descriptors(model, bank)  # the first hard negatives
        label_seconds = time.perf_counter() - start
        sampler = TripletSampler(kinds, travel, coarse, rng)
        losses = []
        with step_progress(f"iteration {iteration}", config.steps, quiet=ctx.json) as progress:
            for step in range(1, config.steps + 1):
                if step % config.refresh == 0:
                    sampler.coarse = coarse_descriptors(model, bank)
                v, f = sampler(config.batch)
                losses.append(float(np.asarray(model.train_on_batch(bank.get(v, f, rng),
                                                                    np.zeros((len(v), 128), np.float32)))))
                if step % 50 == 0:
                    progress.update(step, f"loss {np.mean(losses[-50:]):.4f}")
        inter = kinds[1] if len(kinds) > 1 else None
        entry = {"iteration": iteration, "steps": config.steps, "seconds": round(time.perf_counter() - start, 1),
                 "label_seconds": round(label_seconds, 1), "loss": round(float(np.mean(losses[-200:])), 5),
                 "labels": {k.kind: len(k) for k in kinds}, "tours_found": len(tours.found),
                 "inter_label_precision": label_precision(inter, truths) if inter is not None else None,
                 # a coarse step is 1.8 to 5.5 m of road (5.5 to 16.5 m/s, 10 frames at 30 fps): 2 m asks more
                 # than the coarse tour can resolve, 5 m tells a coarse-grid miss from a wrong place
                 "inter_label_within_5m": label_precision(inter, truths, 5.0) if inter is not None else None,
                 "intra_accuracy": round(intra_accuracy(model, bank, ctx.seed + 99), 4)}
        if iteration == 0:
            entry["config"] = asdict(config)
        log.append(entry)
        if not ctx.json:
            stderr.print(f"iteration {iteration}: {entry['seconds']:.0f} s ({entry['label_seconds']:.0f} s labelling), "
                         f"{entry['tours_found']} tours, loss {entry['loss']:.4f}, "
                         f"intra-video triplets ordered right {entry['intra_accuracy']:.1%}", highlight=False)
        weights = output / f"iter{iteration}.weights.h5"
        save_inference_weights(model, build, weights,
                               {**card, "iteration": iteration, "log": log})
        _figure(model, bank, output / f"cost_iter{iteration}.png")
        with atomic_path(output / "log.json") as tmp:
            tmp.write_text(json.dumps(log, indent=1))
        _write_csv(log, output / "log.csv")
    final = output / "sync.weights.h5"
    save_inference_weights(model, build, final,
                           {**card, "iteration": config.iterations - 1, "log": log})
    return {"weights": str(final), "iterations": config.iterations,
            "seconds": round(sum(e["seconds"] for e in log), 1),
            "tours_found": [e["tours_found"] for e in log],
            "inter_label_precision": [e["inter_label_precision"] for e in log],
            "inter_label_within_5m": [e.get("inter_label_within_5m") for e in log],
            "intra_accuracy": [e["intra_accuracy"] for e in log]}
