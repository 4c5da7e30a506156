"""``mf train deblur --model fouriernet``: train FourierNet (thesis 6.2) on static bursts.

Samples are the static bursts of :mod:`mf_deblur.synthesis.burst` (GP camera-shake
kernels of 7 to 17 px, read noise, as a camera records them: ``--camera``, the
presets' default), streamed from worker processes or read from ``mf synth
deblur`` datasets, cut as the network sees them:
the centred 65×65 patch of every frame (8 px inside the sample, so no kernel
reaches its border) and the sharp centre 33×33, one random colour channel,
rotated and mirrored at random (6.2.1). Each batch takes a random burst length
from 2 to ``frames``: the network is the same for every length.

The loss is the squared error of the fused patch (eq. 6.7). The thesis found Adam
unstable on Fourier-domain values and trained with SGD and momentum 0.9; both
are here (``--optimizer``). With the features scaled as :mod:`.fouriernet`
scales them, Adam was stable and SGD slow: 400 steps of the CPU preset moved the
validation PSNR by +1.63 dB with Adam (lr 5e-4) and by +0.03 dB with SGD (lr
0.02, momentum 0.9, gradients clipped to norm 1); SGD at lr 0.1 gained +0.08 dB
in 200 steps, and at lr 0.5 it diverged (plain bursts, with an earlier fusion of unsmoothed patch
spectra). The presets therefore use Adam; the model card records the run's choice.
Validation restores whole mono bursts of the training photographs (own seed)
patch by patch, as ``mf run deblur`` does, and logs FBA's PSNR on them beside.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mfcore import BoundSynthesizer, InputError, RunContext
from mfcore.kit import Preset, Run, Sources, fit, import_tensorflow_quietly, keras_backend_for, psnr

from .baselines.fba import fba
from .fourier_inference import OUT, PATCH, restore_channel
from .synthesis.burst import static_sample

#: Margin of a training sample around its 65×65 patch: half the largest kernel.
MARGIN = 8
VALIDATION_SEED = 10_000_079
VALIDATION_SIZE = 96
VALIDATION_STRIDE = 16
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class FourierConfig:
    """Hyper-parameters of a FourierNet run (saved in its state and in the model card)."""

    width: float
    batch: int
    frames: int
    min_frames: int
    steps: int
    lr: float
    optimizer: str
    noise: float
    max_noise: float
    camera: bool = False


PRESETS = {
    # About 25 minutes on a 2-core CPU: 1/8 of the thesis's dense layers (6.2 M parameters). Bursts as a camera
    # records them (exposure, Poisson-Gaussian noise, misregistration, JPEG), which real bursts are.
    Preset.cpu: FourierConfig(width=0.125, batch=16, frames=8, min_frames=2, steps=6000, lr=5e-4, optimizer="adam",
                              noise=0.005, max_noise=0.02, camera=True),
    # The thesis's network (4,096 features), batch size and burst length.
    Preset.gpu: FourierConfig(width=1.0, batch=32, frames=14, min_frames=2, steps=200_000, lr=2e-4, optimizer="adam",
                              noise=0.005, max_noise=0.02, camera=True),
}
#: Config fields that command-line options override (and that a card's reproduce line repeats).
OVERRIDABLE = ("steps", "width", "lr", "frames", "optimizer", "camera")


def training_pair(sample: dict[str, np.ndarray], length: int, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                                                   np.ndarray]:
    """(patches (length, 65, 65), target (33, 33)) of one sample: a random channel, rotation and mirror."""
    blurred, sharp = sample["blurred"], sample["sharp"]
    size = PATCH + 2 * MARGIN
    if blurred.ndim != 4 or len(blurred) < length or min(blurred.shape[1:3]) < size:
        raise InputError(f"FourierNet trains on bursts of at least {length} frames of {size}x{size} px, "
                         f"got shape {blurred.shape}")
    channel = int(rng.integers(blurred.shape[-1]))
    y, x = (blurred.shape[1] - PATCH) // 2, (blurred.shape[2] - PATCH) // 2
    patches = blurred[:length, y:y + PATCH, x:x + PATCH, channel]
    lo = (PATCH - OUT) // 2
    target = sharp[y + lo:y + lo + OUT, x + lo:x + lo + OUT, channel]
    turns, mirror = int(rng.integers(4)), bool(rng.integers(2))
    patches, target = np.rot90(patches, turns, axes=(1, 2)), np.rot90(target, turns)
    if mirror:
        patches, target = patches[:, :, ::-1], target[:, ::-1]
    return patches, target


class PatchBatches:
    """Batches (patches (B, N, 65, 65), targets (B, 33, 33)) of one random burst length N each."""

    def __init__(self, config: FourierConfig, data: list[Path], stream: bool, workers: int, seed: int,
                 images: Path | None) -> None:
        self.config = config
        bound = {}
        if stream:
            params = {"size": PATCH + 2 * MARGIN, "frames": config.frames, "noise": config.noise,
                      "max_noise": config.max_noise, "images": str(images) if images else None,
                      "camera": config.camera}
            bound["deblur/static"] = BoundSynthesizer(static_sample, params)
        self.sources = Sources(data, bound, workers, seed, hwm=4 * config.batch)
        self.rng = self.sources.rng

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        length = int(self.rng.integers(self.config.min_frames, self.config.frames + 1))
        pairs = [training_pair(self.sources.draw(b)[1], length, self.rng) for b in range(self.config.batch)]
        return (np.stack([p for p, _ in pairs]).astype(np.float32), np.stack([t for _, t in pairs]).astype(np.float32))

    def close(self) -> None:
        self.sources.close()


def validation_bursts(config: FourierConfig, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Fixed mono bursts (count, frames, 96, 96) and their sharp images, from the training photographs."""
    rng = np.random.default_rng(VALIDATION_SEED)
    samples = [static_sample(rng, size=VALIDATION_SIZE, frames=config.frames, noise=0.01, camera=config.camera)
               for _ in range(count)]
    return (np.stack([s["blurred"][..., 1] for s in samples]), np.stack([s["sharp"][..., 1] for s in samples]))


def _counts(frames: int) -> dict[str, int]:
    return {"": frames, "_5": 5} if frames > 5 else {"": frames}


def validate(model: Any, blurred: np.ndarray, sharp: np.ndarray) -> dict[str, float]:
    """Mean PSNR of the restored bursts, all frames (``static``) and the first 5 (``static_5``)."""
    return {f"static{suffix}": float(np.mean([psnr(s, np.clip(restore_channel(model, b[:n], VALIDATION_STRIDE), 0, 1))
                                              for b, s in zip(blurred, sharp)]))
            for suffix, n in _counts(blurred.shape[1]).items()}


def fba_baselines(blurred: np.ndarray, sharp: np.ndarray) -> dict[str, float]:
    """FBA's mean PSNR on the validation bursts, scored as :func:`validate` scores the network."""
    return {f"static{suffix}_fba": float(np.mean([psnr(s, np.clip(fba(b[:n, ..., None])[..., 0], 0, 1))
                                                  for b, s in zip(blurred, sharp)]))
            for suffix, n in _counts(blurred.shape[1]).items()}


def _optimizer(config: FourierConfig) -> Any:
    import keras

    schedule = keras.optimizers.schedules.CosineDecay(config.lr, config.steps, alpha=0.05)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, clipnorm=1.0)
    return keras.optimizers.Adam(schedule, clipnorm=1.0)


def train_fouriernet(ctx: RunContext, output: Path, preset: Preset, overrides: dict[str, Any], data: list[Path],
                     stream: bool, workers: int, images: Path | None, validation: int, validate_every: int,
                     checkpoint_every: int, resume: bool, stop_after: int | None) -> dict[str, Any]:
    """Train FourierNet into the run folder ``output`` (best weights ``fouriernet.weights.h5`` and card)."""
    if overrides.get("optimizer") not in (None, *OPTIMIZERS):
        raise InputError(f"unknown --optimizer {overrides['optimizer']!r}; use {' or '.join(OPTIMIZERS)}")
    config = FourierConfig(**{**asdict(PRESETS[preset]), **{k: v for k, v in overrides.items() if v is not None}})
    run = Run(output, "fouriernet")
    run.check_new(resume)
    keras_name = keras_backend_for(ctx)
    import_tensorflow_quietly()
    import keras

    from .fouriernet import build_fouriernet

    keras.utils.set_random_seed(ctx.seed)
    model = build_fouriernet(config.width)
    optimizer = _optimizer(config)
    model.compile(optimizer=optimizer, loss="mse")
    state = run.start(model, optimizer, asdict(config), resume)
    blurred, sharp = validation_bursts(config, validation)
    baselines = fba_baselines(blurred, sharp)
    batches = PatchBatches(config, data, stream, workers, ctx.seed + state["step"], images)

    def on_best() -> None:
        run.write_best(model, lambda: build_fouriernet(config.width), _card(config, state, baselines, preset,
                                                                            keras_name, data, stream))

    try:
        state = fit(model, batches, run, state, steps=config.steps, validate=lambda: validate(model, blurred, sharp),
                    on_best=on_best, validate_every=validate_every, checkpoint_every=checkpoint_every,
                    stop_after=stop_after, label="train fouriernet", quiet=ctx.json, validate_start=True)
    finally:
        batches.close()
    return {"output": str(output), "model": "fouriernet", "weights": str(run.best), "steps": state["step"],
            "finished": state["step"] == config.steps, "seconds": state["seconds"], "best": state["best"],
            "validation_baselines": baselines}


def option_flag(key: str, value: Any) -> str:
    """The command-line option that sets config field ``key`` to ``value`` (a card's reproduce line)."""
    name = key.replace("_", "-")
    if isinstance(value, bool):
        return f" --{name}" if value else f" --no-{name}"
    return f" --{name} {value}"


def _card(config: FourierConfig, state: dict[str, Any], baselines: dict[str, float], preset: Preset,
          keras_name: str, data: list[Path], stream: bool) -> dict[str, Any]:
    base = asdict(PRESETS[preset])
    changed = "".join(option_flag(key, value) for key, value in asdict(config).items()
                      if key in OVERRIDABLE and value != base[key])
    return {
        "model": "FourierNet (thesis 6.2)",
        "width": config.width,
        "preset": preset.value,
        "config": asdict(config),
        "data": {"lmdb": [str(p) for p in data], "streams": ["static"] if stream else []},
        "trained_steps": state["best"]["step"],
        "training_seconds": state["best"]["seconds"],
        "validation_psnr": {k: v for k, v in state["best"].items() if k.endswith("_psnr") and k != "mean_psnr"},
        "validation_baselines_psnr": {k: round(v, 3) for k, v in baselines.items()},
        "keras_backend": keras_name,
        "reproduce": f"mf train deblur --model fouriernet --preset {preset.value}{changed} --backend {keras_name}",
    }
