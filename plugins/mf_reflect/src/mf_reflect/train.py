"""``mf train reflect``: train the separation network on synthesised polarisation triples.

Samples come from :func:`mf_reflect.synthesis.reflection_sample` run in ZeroMQ
worker processes (the default) and/or from LMDB datasets written by
``mf synth reflect`` (``--data``). ``--pipeline`` chooses the synthesis steps
for the ablation of figure 5.14: ``dr`` (dynamic range and abrupt edges, flat
pane, static scene), ``dr+nrd`` (plus non-rigid motion) and ``dr+nrd+lcg``
(plus curved glass, the default and the shipped model). The loss is the log
of the mean squared error of R̂ and of T̂ per sample against the observable
layers (:func:`log_mse`); Adam with cosine decay.

Every sample carries the physical prior (:mod:`mf_reflect.prior`, computed on the
whole synthesised sample in the worker, as inference computes it on the whole
capture); each training patch is one colour channel of a crop, or the mean of
the three (a monochrome sensor), since the network separates one channel at a
time.

Validation always uses the full pipeline (what real captures look like), on a
fixed set drawn from the training photographs with its own seed; the
photographs held out for ``mf bench reflect`` are never seen. The run folder
(checkpoints, ``--resume``, ``log.csv``, best ``reflect.weights.h5`` with its
card) is :mod:`mfcore.kit.training`'s; beside them, ``samples.png`` shows four of
the pipeline's training triples with the best network's estimates (figure 5.11).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import BoundSynthesizer, InputError, RunContext, Sample
from mfcore.kit import (
    CheckpointEveryOption,
    LrOption,
    Preset,
    ResumeOption,
    Run,
    Sources,
    StepsOption,
    StopAfterOption,
    ValidateEveryOption,
    WidthOption,
    WorkersOption,
    fit,
    import_tensorflow_quietly,
    keras_backend_for,
    psnr,
    write_image,
)

from .exposure import LEVEL
from .prior import PRIOR, oriented_prior
from .sheet import sample_sheet, training_samples
from .synthesis import ANGLES, reflection_sample

VALIDATION_SEED = 20_000_003


class Pipeline(str, Enum):
    """Synthesis steps of the training data (figure 5.14's ablation)."""

    dr = "dr"
    dr_nrd = "dr+nrd"
    full = "dr+nrd+lcg"

    def params(self) -> dict[str, Any]:
        return {"nrd": 0.0 if self is Pipeline.dr else 0.5, "lcg": self is Pipeline.full}


@dataclass(frozen=True)
class Config:
    """Hyper-parameters of a run (saved in its state and in the model card)."""

    width: float
    patch: int
    batch: int
    steps: int
    lr: float
    pipeline: str


PRESETS = {
    # A half-width network on 64 px patches: about 40 minutes on a 2-core CPU.
    Preset.cpu: Config(width=0.5, patch=64, batch=8, steps=8_000, lr=2e-3, pipeline=Pipeline.full.value),
    # The thesis's network and learning rate (appendix B), 128 px patches.
    Preset.gpu: Config(width=1.0, patch=128, batch=16, steps=100_000, lr=5e-3, pipeline=Pipeline.full.value),
}


#: Side the prior's AOI search shrinks a training sample to (inference searches on up to 256 px).
PRIOR_SIDE = 64


def with_prior(rng: np.random.Generator, **params: Any) -> Sample:
    """A synthesised triple turned into the reflection's frame, with its physical prior (``prior``: the classical
    R, T), exactly as inference prepares a capture; run in the workers."""
    sample = reflection_sample(rng, **params)
    sample["observations"], sample["prior"] = oriented_prior(sample["observations"],
                                                             sample["angles"].astype(np.float64), PRIOR_SIDE)
    return sample


def _crop(sample: Sample, patch: int, rng: np.random.Generator, source: str) -> tuple[np.ndarray, np.ndarray]:
    """(inputs (N + 2, P, P, 1): observations then prior, targets (2, P, P, 1): R then T) of one random crop
    and channel (or the channels' mean) of a sample."""
    try:
        obs, targets = sample["observations"], np.stack([sample["reflection"], sample["transmission"]])
    except KeyError as exc:
        raise InputError(f"{source}: not a reflect dataset (samples lack {exc})") from exc
    if obs.ndim != 4 or len(obs) != len(ANGLES) or not np.allclose(sample["angles"], np.radians(ANGLES), atol=1e-6):
        raise InputError(f"{source}: samples must hold {len(ANGLES)} observations at {ANGLES} degrees")
    h, w = obs.shape[1:3]
    if min(h, w) < patch:
        raise InputError(f"{source}: samples of {w}x{h} px are smaller than the {patch} px training patches")
    if "prior" in sample:  # from with_prior: already in the reflection's frame
        prior = sample["prior"]
    else:  # an LMDB dataset of plain triples
        obs, prior = oriented_prior(obs, np.radians(ANGLES), PRIOR_SIDE)
    y, x = int(rng.integers(0, h - patch + 1)), int(rng.integers(0, w - patch + 1))
    inputs = np.concatenate([obs, prior])[:, y:y + patch, x:x + patch]
    targets = targets[:, y:y + patch, x:x + patch]
    channel = int(rng.integers(obs.shape[-1] + 1))  # the last choice: a monochrome sensor
    if channel == obs.shape[-1]:
        return inputs.mean(axis=-1, keepdims=True), targets.mean(axis=-1, keepdims=True)
    return inputs[..., channel:channel + 1], targets[..., channel:channel + 1]


def synthesis_params(config: Config, images: Path | None) -> dict[str, Any]:
    """The synthesiser's switches for the run's pipeline and photographs (training batches and samples.png)."""
    return {"images": str(images) if images else None, **Pipeline(config.pipeline).params()}


class Batches:
    """Batches (inputs (B, 5, P, P, 1), targets (B, 2, P, P, 1)) from LMDB files and live streams."""

    def __init__(self, config: Config, data: list[Path], stream: bool, workers: int, seed: int,
                 images: Path | None) -> None:
        self.config = config
        params = {"size": config.patch, **synthesis_params(config, images)}
        streams = {"reflect/triple": BoundSynthesizer(with_prior, params)} if stream else {}
        self.sources = Sources(data, streams, workers, seed, hwm=4 * config.batch)

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        pairs = [_crop(sample, self.config.patch, self.sources.rng, name)
                 for name, sample in (self.sources.draw(b) for b in range(self.config.batch))]
        return (np.stack([p[0] for p in pairs]).astype(np.float32), np.stack([p[1] for p in pairs]).astype(np.float32))

    def close(self) -> None:
        self.sources.close()


#: Floor of the per-layer MSE in the loss (50 dB): beyond it a sample has nothing left to teach.
MSE_FLOOR = 1e-5


def log_mse(targets: Any, estimates: Any) -> Any:
    """Per sample, log10 of the MSE of R̂ plus that of T̂: minus the PSNRs the benchmark averages, over 10.

    A plain MSE lets a network trade a sample the physical prior already
    separates perfectly (40 dB) for a small gain on a hard one; on the log scale
    losing those 40 dB costs as much as any other sample's decibels, so the
    gates stay shut where the prior is right and open only where it fails.
    """
    from keras import ops

    mse = ops.mean(ops.square(targets - estimates), axis=(2, 3, 4))  # (B, 2): R, T
    return ops.sum(ops.log(mse + MSE_FLOOR), axis=1) / np.log(10.0)


def validation_set(count: int = 24, size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """Fixed full-pipeline validation patches (inputs, targets) from the training photographs (own seed)."""
    rng = np.random.default_rng(VALIDATION_SEED)
    pairs = [_crop(with_prior(rng, size=size), size, rng, "validation") for _ in range(count)]
    return np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])


def _scores(estimates: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Mean PSNR of R̂ (``reflection``) and T̂ (``transmission``) over a set."""
    return {kind: float(np.mean([psnr(t[i], np.clip(e[i], 0, 1)) for e, t in zip(estimates, targets)]))
            for i, kind in enumerate(("reflection", "transmission"))}


def _validate(model: Any, inputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    from keras import ops

    out = np.concatenate([ops.convert_to_numpy(model(inputs[i:i + 8], training=False))
                          for i in range(0, len(inputs), 8)])
    return _scores(out, targets)


def prior_baseline(inputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Validation PSNR of the physical prior alone (the classical layers): where the network starts, gates shut."""
    return _scores(inputs[:, len(ANGLES):], targets)


def train(
    ctx: RunContext,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run folder: checkpoints, log.csv, "
                                                                "reflect.weights.h5.")] = Path("runs/reflect"),
    preset: Annotated[Preset, typer.Option(help="cpu: half width, 64 px, 8k steps; gpu: the thesis's network.")]
    = Preset.cpu,
    pipeline: Annotated[Pipeline | None, typer.Option(help="Synthesis steps (the ablation of figure 5.14; "
                                                           "default: the preset's, all of them).")] = None,
    data: Annotated[list[Path] | None, typer.Option("--data", help="LMDB dataset from `mf synth reflect` "
                                                                   "(repeatable).")] = None,
    stream: Annotated[bool | None, typer.Option("--stream/--no-stream", help="Synthesise on the fly in worker "
                                                                             "processes (default: unless --data).")]
    = None,
    workers: WorkersOption = 1,
    images: Annotated[Path | None, typer.Option(help="Your photographs for the stream (default: bundled).")] = None,
    steps: StepsOption = None,
    width: WidthOption = None,
    lr: LrOption = None,
    validate_every: ValidateEveryOption = 250,
    validation: Annotated[int, typer.Option(min=1, help="Validation triples.")] = 24,
    checkpoint_every: CheckpointEveryOption = 250,
    resume: ResumeOption = False,
    stop_after: StopAfterOption = None,
) -> dict[str, Any]:
    """Train the reflection/transmission separation network with progress, checkpoints, resume and a PSNR log."""
    run = Run(output, "reflect")
    run.check_new(resume)
    overrides = {"steps": steps, "width": width, "lr": lr, "pipeline": pipeline.value if pipeline else None}
    config = Config(**{**asdict(PRESETS[preset]), **{k: v for k, v in overrides.items() if v is not None}})
    use_stream = stream if stream is not None else not data
    keras_name = keras_backend_for(ctx, "the separation network")
    import_tensorflow_quietly()  # Keras's trainer imports it on PyTorch too
    import keras

    from .network import build_network

    keras.utils.set_random_seed(ctx.seed)
    angles = np.radians(ANGLES)
    model = build_network(angles, config.width, config.patch)
    schedule = keras.optimizers.schedules.CosineDecay(config.lr, config.steps, alpha=0.05)
    optimizer = keras.optimizers.Adam(schedule, clipnorm=1.0)
    model.compile(optimizer=optimizer, loss=log_mse)
    state = run.start(model, optimizer, asdict(config), resume)
    inputs, targets = validation_set(validation)
    baselines = prior_baseline(inputs, targets)
    batches = Batches(config, data or [], use_stream, workers, ctx.seed + state["step"], images)
    samples = training_samples(ctx.seed, **synthesis_params(config, images))

    def on_best() -> None:
        card = {
            "model": "reflection/transmission separation network (thesis 5.2.2, appendix B)",
            "width": config.width, "angles_degrees": list(ANGLES), "preset": preset.value, "config": asdict(config),
            "data": {"lmdb": [str(p) for p in data or []], "stream": use_stream},
            "trained_steps": state["best"]["step"], "training_seconds": state["best"]["seconds"],
            "validation_psnr": {k: v for k, v in state["best"].items() if k.endswith("_psnr") and k != "mean_psnr"},
            "validation_prior_psnr": {k: round(v, 3) for k, v in baselines.items()},
            "channels": 1, "prior": PRIOR, "exposure_level": LEVEL,
            "keras_backend": keras_name,
            "reproduce": f"mf train reflect --preset {preset.value} --pipeline {config.pipeline} "
                         f"--backend {keras_name}",
        }
        run.write_best(model, lambda: build_network(angles, config.width, config.patch), card)
        write_image(run.folder / "samples.png", sample_sheet(samples, model))

    try:
        state = fit(model, batches, run, state, steps=config.steps,
                    validate=lambda: _validate(model, inputs, targets), on_best=on_best,
                    validate_every=validate_every, checkpoint_every=checkpoint_every, stop_after=stop_after,
                    label="train reflect", quiet=ctx.json)
    finally:
        batches.close()
    return {"output": str(output), "weights": str(run.best), "steps": state["step"],
            "finished": state["step"] == config.steps, "seconds": state["seconds"], "best": state["best"],
            "validation_prior": baselines}
