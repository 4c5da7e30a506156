"""``mf train deblur``: train the Recurrent Deblur Network (thesis 6.3.3).

Data comes from LMDB datasets written by ``mf synth deblur`` (``--data``) and/or
from generators run on the fly in worker processes that stream samples over
ZeroMQ (``--stream static|dynamic``); each batch draws evenly from all sources.
Every sample is a target frame's sharp patch and its blurred sequence, target
first. Each batch is cut to a random length between ``min_frames`` and
``frames`` (the recurrent network takes any length): trained on 5-frame
sequences only, the network learnt to trust the 4 nearest neighbours and broke
down on 12-frame videos whose far neighbours have moved 20 px or more. The loss
is the sum over the recurrent steps of the per-step mean squared error (one
term per observation, as figure 6.14), minimised with Adam.

``--camera`` adds to static bursts what a real camera does beyond blur and
read noise (:mod:`mf_deblur.synthesis.capture`); ``--start fba`` trains what
``mf run deblur`` runs for weights trained so (:func:`mf_deblur.order.burst_sequence`):
FBA's fusion of a burst's frames (a random 2 to ``frames`` of them), refined by
its sharpest ``FBA_OBSERVATIONS`` frames; dynamic clips in the same batches are
cut to as many steps.

``--init`` starts a new run from trained weights (fine-tuning the shipped
model on a user's images); ``--frames`` sets the longest sequence;
``--recalibrate-norm`` and ``--freeze-norm`` fine-tune with exact, fixed
batch-norm statistics (:mod:`mfcore.kit.batch_norm`), which is how the shipped
weights were fine-tuned (then again, ``--freeze-norm`` alone, with ``--frames
12``): the recurrent block otherwise trains on per-step batch statistics that
inference never sees. A run with ``--init`` scores its starting
weights first (step 0 of ``log.csv``), so a fine-tune that never beats them
keeps them as its best instead of shipping something worse.

The run folder (checkpoints with optimizer state, ``--resume``, ``log.csv`` of
validation PSNR, best weights ``rdn.weights.h5`` with their card ``rdn.json``)
is :mod:`mfcore.kit.training`'s. Validation uses a fixed set of static and dynamic samples drawn from the
training photographs with a seed of its own; the photographs held out for
``mf bench deblur`` are never seen.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from mfcore import BoundSynthesizer, InputError, RunContext
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
    batch_norm,
    card_width,
    fit,
    import_tensorflow_quietly,
    inference_mode,
    keras_backend_for,
    load_weights,
    psnr,
    read_card,
)

from .baselines.fba import fba
from .fourier_training import option_flag, train_fouriernet
from .order import FBA_OBSERVATIONS, burst_sequence, sharpest_first
from .synthesis.burst import static_sample
from .synthesis.dynamic import dynamic_sample


class Network(str, Enum):
    rdn = "rdn"
    fouriernet = "fouriernet"


GENERATORS = {"static": static_sample, "dynamic": dynamic_sample}
VALIDATION_SEED = 10_000_019
RECALIBRATION_SEED = 20_000_003  # added to the run's seed: not the training stream's samples


@dataclass(frozen=True)
class Config:
    """Hyper-parameters of a run (saved in its state and in the model card)."""

    width: float
    patch: int
    batch: int
    frames: int
    min_frames: int
    steps: int
    lr: float
    noise: float
    max_noise: float
    flat_share: float  # share of static patches that skip the texture test (photo_pool.textured_patch)
    init: str | None = None
    recalibrate_norm: int = 0  # batches to recompute the init's batch-norm statistics over (0: keep them)
    freeze_norm: bool = False  # batch norm normalises with its fixed statistics in training too
    camera: bool = False  # static bursts also get a camera's exposure, noise, misregistration, JPEG (synthesis.capture)
    start: str = "frame"  # what a static burst's recurrence starts from: its first frame, or FBA (order.burst_sequence)


PRESETS = {
    # Fits a 2-core CPU in about 80 minutes: half-width network, 64 px patches. Lengths 2..8 cost on
    # average the 4 recurrent steps of the thesis's 5-frame sequences.
    Preset.cpu: Config(width=0.5, patch=64, batch=8, frames=8, min_frames=2, steps=3500, lr=1e-3, noise=0.005,
                       max_noise=0.02, flat_share=0.0),
    # The thesis's network: full width, 128 px patches.
    Preset.gpu: Config(width=1.0, patch=128, batch=16, frames=8, min_frames=2, steps=200_000, lr=5e-4,
                       noise=0.005, max_noise=0.02, flat_share=0.0),
}
#: Config fields that command-line options override (and that a card's reproduce line must repeat).
OVERRIDABLE = ("steps", "width", "lr", "frames", "flat_share", "init", "recalibrate_norm", "freeze_norm", "camera",
               "start")
#: What a static burst's recurrence can start from.
STARTS = ("frame", "fba")
VALIDATION_FRAMES = 5  # validation also scores the estimate after this many frames, the thesis's length


def _crop(sample: dict[str, np.ndarray], patch: int, frames: int, rng: np.random.Generator,
          source: str) -> tuple[np.ndarray, np.ndarray]:
    sharp, blurred = sample["sharp"], sample["blurred"]
    if blurred.ndim != 4 or len(blurred) < frames:
        raise InputError(f"{source}: samples need at least {frames} blurred frames, got shape {blurred.shape}")
    h, w = sharp.shape[:2]
    if min(h, w) < patch:
        raise InputError(f"{source}: samples of {w}x{h} px are smaller than the {patch} px training patches")
    y, x = int(rng.integers(0, h - patch + 1)), int(rng.integers(0, w - patch + 1))
    return sharp[y:y + patch, x:x + patch], blurred[:frames, y:y + patch, x:x + patch]


def _kind_params(kind: str, config: Config) -> dict[str, float]:
    """The run's parameters that only one kind of generator takes (training and validation alike)."""
    return {"flat_share": config.flat_share, "camera": config.camera} if kind == "static" else {}


def _fba_starts(config: Config) -> bool:
    """Whether static bursts start from FBA's fusion (``--start fba``)."""
    return config.start == "fba"


def _sequence(blurred: np.ndarray, length: int, static: bool, config: Config) -> np.ndarray:
    """The sequence the network gets from a sample's first ``length`` frames.

    Where static bursts start from FBA, a static burst is what ``mf run deblur`` makes of those frames (FBA of
    them all, then the sharpest ``FBA_OBSERVATIONS``) and a dynamic clip is cut to the same number of steps.
    """
    if not _fba_starts(config):
        return blurred[:length]
    if static:
        return burst_sequence(sharpest_first(blurred[:length]), config.start)
    return blurred[:FBA_OBSERVATIONS + 1]


class Batches:
    """Mixed batches (sequences (B, T, P, P, 3), targets (B, T-1, P, P, 3)) from LMDB files and live streams."""

    def __init__(self, config: Config, data: list[Path], streams: list[str], workers: int, seed: int,
                 images: Path | None, videos: Path | None) -> None:
        self.config = config
        bound = {}
        for kind in streams:
            params = {"size": config.patch, "frames": config.frames, "noise": config.noise,
                      "max_noise": config.max_noise, "images": str(images) if images else None}
            params.update(_kind_params(kind, config))
            if kind == "dynamic":
                params["videos"] = str(videos) if videos else None
            bound[f"deblur/{kind}"] = BoundSynthesizer(GENERATORS[kind], params)
        self.sources = Sources(data, bound, workers, seed, hwm=4 * config.batch)
        self.rng = self.sources.rng

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        """A batch of one random length in [min_frames, frames] (where static bursts start from FBA: of frames
        fused)."""
        sharp, blurred = [], []
        length = int(self.rng.integers(self.config.min_frames, self.config.frames + 1))
        for b in range(self.config.batch):
            name, sample = self.sources.draw(b)
            s, x = _crop(sample, self.config.patch, self.config.frames, self.rng, name)
            sharp.append(s)
            blurred.append(_sequence(x, length, "static" in name, self.config))
        x, y = np.stack(blurred).astype(np.float32), np.stack(sharp).astype(np.float32)
        return x, np.repeat(y[:, None], x.shape[1] - 1, axis=1)  # one target per recurrent step

    def close(self) -> None:
        self.sources.close()


def validation_set(config: Config, count: int = 24, size: int = 96,
                   kinds: Sequence[str] = tuple(GENERATORS)) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Fixed validation sequences of each of ``kinds`` from the training photographs (own seed per kind).

    They follow the training distribution (``flat_share`` included), so that a run with flat patches
    is also scored on them. A run streams only some kinds (``--stream static``) to serve those inputs, and
    is scored, and its best step chosen, on those kinds alone.
    """
    sets = {}
    for offset, (kind, fn) in enumerate(GENERATORS.items()):
        if kind not in kinds:
            continue
        rng = np.random.default_rng(VALIDATION_SEED + offset)
        samples = [fn(rng, size=size, frames=config.frames, noise=0.01, **_kind_params(kind, config))
                   for _ in range(count)]
        sets[kind] = (np.stack([s["blurred"] for s in samples]), np.stack([s["sharp"] for s in samples]))
    return sets


def _counts(frames: int) -> dict[str, int]:
    """Frame counts validation scores, by column suffix: all frames, and the thesis's 5 if fewer."""
    counts = {"": frames}
    if VALIDATION_FRAMES < frames:
        counts[f"_{VALIDATION_FRAMES}"] = VALIDATION_FRAMES
    return counts


def _validate(model: Any, sets: dict[str, tuple[np.ndarray, np.ndarray]], config: Config) -> dict[str, float]:
    """Mean PSNR per kind of the estimate after all frames (``static``) and after 5 (``static_5``).

    Static bursts that start from FBA are scored as FBA's baseline is: from their first 5 frames, and from all.
    """
    from keras import ops

    def run(sequences: np.ndarray) -> np.ndarray:
        with inference_mode():
            return np.concatenate([ops.convert_to_numpy(model(sequences[i:i + 8], training=False))
                                   for i in range(0, len(sequences), 8)])

    scores = {}
    for kind, (blurred, sharp) in sets.items():
        frames = blurred.shape[1]
        if kind == "static" and _fba_starts(config):
            for suffix, count in _counts(frames).items():
                out = run(np.stack([_sequence(b, count, True, config) for b in blurred]))
                scores[kind + suffix] = float(np.mean([psnr(s, np.clip(o[-1], 0, 1)) for s, o in zip(sharp, out)]))
            continue
        out = run(blurred)
        for suffix, count in _counts(frames).items():
            scores[kind + suffix] = float(np.mean([psnr(s, np.clip(o[count - 2], 0, 1)) for s, o in zip(sharp, out)]))
    return scores


def _baselines(sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    out = {}
    for kind, (blurred, sharp) in sets.items():
        out[f"{kind}_input"] = float(np.mean([psnr(s, b[0]) for s, b in zip(sharp, blurred)]))
        for suffix, count in _counts(blurred.shape[1]).items():
            out[f"{kind}{suffix}_fba"] = float(np.mean([psnr(s, np.clip(fba(b[:count]), 0, 1))
                                                        for s, b in zip(sharp, blurred)]))
    return out


def _warm_start(model: Any, weights: Path, width: float) -> None:
    """Load ``weights`` into the fresh ``model``; their card must record the run's width."""
    trained_width = card_width(read_card(weights, "RDN"), weights)
    if trained_width != width:
        raise InputError(f"{weights}: these RDN weights have width {trained_width:g}, the run has {width:g} "
                         f"(pass --width {trained_width:g})")
    load_weights(model, weights, f"the RDN of width {width:g}")


def _recalibrate(model: Any, config: Config, data: list[Path], streams: list[str], workers: int, seed: int,
                 images: Path | None, videos: Path | None) -> None:
    """Exact batch-norm statistics of the warm-started ``model`` over ``config.recalibrate_norm`` training batches."""
    batches = Batches(config, data, streams, workers, seed + RECALIBRATION_SEED, images, videos)
    try:
        batch_norm.recalibrate(model, (next(batches)[0] for _ in itertools.count()), config.recalibrate_norm)
    finally:
        batches.close()


def _step_loss(y_true: Any, y_pred: Any) -> Any:
    """Per sample: Σ_k mean squared error of step k (y_true is the target tiled over the steps)."""
    from keras import ops

    return ops.sum(ops.mean(ops.square(y_true - y_pred), axis=(2, 3, 4)), axis=1)


def train(
    ctx: RunContext,
    output: Annotated[Path, typer.Option("--output", "-o", help="Run folder: checkpoints, log.csv, rdn.weights.h5 "
                                                                "(fouriernet.weights.h5).")]
    = Path("runs/deblur"),
    network: Annotated[Network, typer.Option(
        "--model", help="rdn: the Recurrent Deblur Network (bursts and videos); fouriernet: the static-burst "
                        "network of thesis 6.2 (static bursts only).")] = Network.rdn,
    preset: Annotated[Preset, typer.Option(help="cpu: half width, 64 px, 3.5k steps (FourierNet: 1/8 width, 6k "
                                                "steps); gpu: the thesis's network.")]
    = Preset.cpu,
    data: Annotated[list[Path] | None, typer.Option("--data", help="LMDB dataset from `mf synth deblur` "
                                                                   "(repeatable).")] = None,
    stream: Annotated[list[str] | None, typer.Option("--stream", help="On-the-fly generator: static or dynamic "
                                                                      "(repeatable; default both unless --data).")]
    = None,
    workers: WorkersOption = 1,
    images: Annotated[Path | None, typer.Option(help="Your sharp images for the streams (default: bundled).")]
    = None,
    videos: Annotated[Path | None, typer.Option(help="Your sharp videos for the dynamic stream.")] = None,
    steps: StepsOption = None,
    width: WidthOption = None,
    lr: LrOption = None,
    frames: Annotated[int | None, typer.Option(min=2, help="Longest training sequence (default: the preset's "
                                                              "8); each batch takes a random length from 2.")]
    = None,
    flat_share: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Share of static patches that skip the "
                                                     "texture test (default: the preset's 0, as in thesis "
                                                     "6.2.1).")] = None,
    init: Annotated[Path | None, typer.Option(help="Start from these RDN weights (e.g. the shipped ones, to "
                                                   "fine-tune on your images) with a fresh optimizer.")] = None,
    recalibrate_norm: Annotated[int | None, typer.Option(min=1, help="With --init: first set every batch-norm "
                                                         "layer's statistics to their exact mean over this many "
                                                         "batches (for weights trained with batch statistics).")]
    = None,
    freeze_norm: Annotated[bool, typer.Option(help="With --init: batch norm keeps its statistics (and scale) "
                                                   "fixed, so the run trains the network exactly as inference "
                                                   "runs it.")] = False,
    camera: Annotated[bool | None, typer.Option(
        "--camera/--no-camera", help="Static bursts as a camera records them: exposure differences, clipping, "
                                     "Poisson-Gaussian noise, misregistration, 8 bits, JPEG, nearly sharp frames "
                                     "(default: the model's preset: off for the RDN, on for FourierNet).")] = None,
    start: Annotated[str | None, typer.Option(help="What static bursts start from: frame (their sharpest frame) "
                                                   "or fba (FBA's fusion of their frames, as mf run deblur does "
                                                   "with weights trained so).")] = None,
    optimizer: Annotated[str | None, typer.Option(help="FourierNet: adam (the presets') or sgd "
                                                       "(momentum 0.9, the thesis's).")] = None,
    validate_every: ValidateEveryOption = 250,
    validation: Annotated[int, typer.Option(min=1, help="Validation sequences of each kind (static, dynamic).")]
    = 24,
    checkpoint_every: CheckpointEveryOption = 250,
    resume: ResumeOption = False,
    stop_after: StopAfterOption = None,
) -> dict[str, Any]:
    """Train the Recurrent Deblur Network (or FourierNet) with progress, checkpoints, resume and a validation log."""
    if network is Network.fouriernet:
        rdn_only = {"--init": init, "--recalibrate-norm": recalibrate_norm, "--freeze-norm": freeze_norm or None,
                    "--flat-share": flat_share, "--start": start, "--videos": videos}
        given = [name for name, value in rdn_only.items() if value is not None]
        if given:
            raise InputError(f"{given[0]} is an RDN option; FourierNet does not take it")
        if any(kind != "static" for kind in stream or []):
            raise InputError("FourierNet trains on static bursts only: use --stream static")
        overrides = {"steps": steps, "width": width, "lr": lr, "frames": frames, "optimizer": optimizer,
                     "camera": camera}
        return train_fouriernet(ctx, output, preset, overrides, data or [], bool(stream) or not data, workers,
                                images, validation, validate_every, checkpoint_every, resume, stop_after)
    if optimizer is not None:
        raise InputError("--optimizer is a FourierNet option (--model fouriernet); the RDN trains with Adam")
    run = Run(output, "rdn")
    run.check_new(resume)
    base = PRESETS[preset]
    overrides = dict(zip(OVERRIDABLE, (steps, width, lr, frames, flat_share, str(init) if init else None,
                                       recalibrate_norm, freeze_norm or None, camera, start)))
    if start is not None and start not in STARTS:
        raise InputError(f"unknown --start {start!r}; use {' or '.join(STARTS)}")
    config = Config(**{**asdict(base), **{k: v for k, v in overrides.items() if v is not None}})
    streams = list(stream or ([] if data else ["static", "dynamic"]))
    unknown = [s for s in streams if s not in GENERATORS]
    if unknown:
        raise InputError(f"unknown --stream {unknown[0]!r}; use static or dynamic")
    if (config.freeze_norm or config.recalibrate_norm) and config.init is None:
        raise InputError("--freeze-norm and --recalibrate-norm fine-tune trained weights: pass --init WEIGHTS too")
    keras_name = keras_backend_for(ctx)
    import_tensorflow_quietly()  # Keras's trainer imports it on PyTorch too
    import keras

    from .network import build_rdn

    keras.utils.set_random_seed(ctx.seed)
    model = build_rdn(config.width)
    if init is not None and not resume:  # a resumed run loads its own checkpoint instead
        _warm_start(model, init, config.width)
        if config.recalibrate_norm:
            _recalibrate(model, config, data or [], streams, workers, ctx.seed, images, videos)
    if config.freeze_norm:
        batch_norm.freeze(model)  # before compiling: the optimizer sees only what stays trainable
    schedule = keras.optimizers.schedules.CosineDecay(config.lr, config.steps, alpha=0.05)
    optimizer = keras.optimizers.Adam(schedule, clipnorm=1.0)
    model.compile(optimizer=optimizer, loss=_step_loss)
    state = run.start(model, optimizer, asdict(config), resume)
    sets = validation_set(config, validation, kinds=streams or tuple(GENERATORS))
    baselines = _baselines(sets)
    batches = Batches(config, data or [], streams, workers, ctx.seed + state["step"], images, videos)

    def on_best() -> None:
        run.write_best(model, lambda: build_rdn(config.width), _card(config, state, baselines, preset, keras_name,
                                                                     data, streams))

    try:
        state = fit(model, batches, run, state, steps=config.steps, validate=lambda: _validate(model, sets, config),
                    on_best=on_best, validate_every=validate_every, checkpoint_every=checkpoint_every,
                    stop_after=stop_after, label="train rdn", quiet=ctx.json,
                    validate_start=config.init is not None)
    finally:
        batches.close()
    return {"output": str(output), "weights": str(run.best), "steps": state["step"],
            "finished": state["step"] == config.steps, "seconds": state["seconds"], "best": state["best"],
            "validation_baselines": baselines}


def _card(config: Config, state: dict[str, Any], baselines: dict[str, float], preset: Preset, keras_name: str,
          data: list[Path] | None, streams: list[str]) -> dict[str, Any]:
    return {
        "model": "Recurrent Deblur Network (thesis 6.3.3)",
        "width": config.width,
        "preset": preset.value,
        "config": asdict(config),
        "data": {"lmdb": [str(p) for p in data or []], "streams": streams},
        "trained_steps": state["best"]["step"],
        "training_seconds": state["best"]["seconds"],
        "validation_psnr": {k: v for k, v in state["best"].items() if k.endswith("_psnr") and k != "mean_psnr"},
        "validation_baselines_psnr": {k: round(v, 3) for k, v in baselines.items()},
        "keras_backend": keras_name,
        "reproduce": _command(config, preset, keras_name),
    }


def _command(config: Config, preset: Preset, keras_name: str) -> str:
    """The ``mf train deblur`` line that repeats this run: its preset and every option that changed it."""
    base = asdict(PRESETS[preset])
    changed = "".join(option_flag(key, value) for key, value in asdict(config).items()
                      if key in OVERRIDABLE and value != base[key])
    return f"mf train deblur --preset {preset.value}{changed} --backend {keras_name}"
