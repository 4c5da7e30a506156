"""The training loop every plugin's ``mf train`` shares: run folders, resume, validation log, best weights.

A run folder holds everything needed to stop and resume (``--resume``): the
last weights with the optimizer's state (written atomically every
``checkpoint_every`` steps and when a slice ends), ``checkpoint/state.json``
(step, seconds, configuration, log), ``log.csv`` with the validation scores,
and the best weights so far as ``<name>.weights.h5`` with their model card
``<name>.json``, saved from an uncompiled copy so that the shipped file holds
the network only. A resumed run must have the configuration it started with.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from .. import __version__ as mf_version
from ..atomic import atomic_path, output_folder
from ..data.shards import open_dataset
from ..data.stream import SampleStream
from ..errors import InputError
from ..synthesizer import BoundSynthesizer, Sample
from .keras_models import card_path
from .progress import step_progress

#: A batch: the inputs and the targets of ``model.train_on_batch``.
Batch = tuple[np.ndarray, np.ndarray]

class Preset(str, Enum):
    """``--preset``: a configuration sized for a 2-core CPU, or the thesis's network for a GPU."""

    cpu = "cpu"
    gpu = "gpu"


# The options every ``mf train TASK`` shares, so that they read and behave the same everywhere.
StepsOption = Annotated[int | None, typer.Option(min=1, help="Training steps (default: the preset's).")]
WidthOption = Annotated[float | None, typer.Option(min=0.05, help="Width multiplier (default: the preset's).")]
LrOption = Annotated[float | None, typer.Option(min=0.0, help="Initial learning rate (default: the preset's).")]
ValidateEveryOption = Annotated[int, typer.Option(min=1, help="Steps between validations.")]
CheckpointEveryOption = Annotated[int, typer.Option(min=1, help="Steps between checkpoints.")]
ResumeOption = Annotated[bool, typer.Option(help="Continue the run in --output from its checkpoint.")]
StopAfterOption = Annotated[int | None, typer.Option(min=1, help="Checkpoint and stop after this many steps of this "
                                                                 "invocation (train in slices with --resume).")]
WorkersOption = Annotated[int, typer.Option(min=1, help="Worker processes per on-the-fly stream.")]


class Sources:
    """Training samples drawn evenly from LMDB datasets (shuffled, endlessly) and live ZeroMQ streams.

    ``streams`` maps a name (for messages) to a bound generator; each gets ``workers``
    processes, checked first in this process so that bad parameters fail in one line.
    """

    def __init__(self, data: list[Path], streams: dict[str, BoundSynthesizer], workers: int, seed: int,
                 hwm: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.sources: list[tuple[str, Iterator[Sample]]] = []
        self._streams: list[SampleStream] = []
        for path in data:
            if not path.exists():
                raise InputError(f"{path}: no such dataset")
            self.sources.append((str(path), self._shuffled(open_dataset(path))))
        try:
            for i, (name, bound) in enumerate(streams.items()):
                bound.check(seed, name)
                stream = SampleStream(bound, workers=workers, seed=seed * 1000 + i, hwm=hwm)
                self._streams.append(stream)
                self.sources.append((f"{name} stream", iter(stream)))
        except BaseException:
            self.close()
            raise
        if not self.sources:
            raise InputError("no training data: give --data or --stream")

    def _shuffled(self, dataset: Sequence[Sample]) -> Iterator[Sample]:
        while True:
            for index in self.rng.permutation(len(dataset)):
                yield dataset[int(index)]

    def draw(self, index: int) -> tuple[str, Sample]:
        """The next sample of a source (``index``-th of a batch, from a random offset): (source name, sample)."""
        name, source = self.sources[(index + int(self.rng.integers(len(self.sources)))) % len(self.sources)]
        return name, next(source)

    def close(self) -> None:
        for stream in self._streams:
            stream.close()


class Run:
    """A run folder: checkpoint (weights with optimizer state), log and best weights."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.last = folder / "checkpoint" / "last.weights.h5"
        self.state = folder / "checkpoint" / "state.json"
        self.log = folder / "log.csv"
        self.best = folder / f"{name}.weights.h5"

    def check_new(self, resume: bool) -> None:
        if not resume and self.state.is_file():
            raise InputError(f"{self.folder} already holds a run; pass --resume to continue it or choose another "
                             f"--output")

    def save(self, model: Any, state: dict[str, Any]) -> None:
        """Weights of a compiled model include its optimizer's moments and step count."""
        self.last.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.last) as tmp:
            model.save_weights(str(tmp))
        with atomic_path(self.state) as tmp:
            tmp.write_text(json.dumps(state, indent=1))

    def start(self, model: Any, optimizer: Any, config: dict[str, Any], resume: bool) -> dict[str, Any]:
        """A fresh state, or the checkpoint's (model and optimizer restored) when resuming the same config."""
        if not resume:
            output_folder(self.folder, "run folder")
            return {"step": 0, "seconds": 0.0, "best": None, "log": [], "config": config}
        if not self.state.is_file():
            raise InputError(f"{self.folder}: no checkpoint to resume from")
        optimizer.build(model.trainable_variables)  # so that loading fills its moments too
        model.load_weights(str(self.last))
        state = json.loads(self.state.read_text())
        if state["config"] != config:
            raise InputError(f"{self.folder}: the run was started with {state['config']}, not {config}")
        return state

    def write_log(self, rows: list[dict[str, Any]]) -> None:
        with atomic_path(self.log) as tmp, open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    def write_best(self, model: Any, build: Callable[[], Any], card: dict[str, Any]) -> None:
        """The current weights as the run's best (see :func:`save_inference_weights`)."""
        save_inference_weights(model, build, self.best, card)


def save_inference_weights(model: Any, build: Callable[[], Any], path: Path, card: dict[str, Any]) -> None:
    """``model``'s weights through an uncompiled ``build()`` copy (no optimizer state) to ``path``, and its card.

    The card gets the mf version and the date; both files are written atomically.
    """
    inference = build()
    inference.set_weights(model.get_weights())
    with atomic_path(path) as tmp:
        inference.save_weights(str(tmp))
    card = {**card, "mf_version": mf_version, "date": dt.date.today().isoformat()}
    with atomic_path(card_path(path)) as tmp:
        tmp.write_text(json.dumps(card, indent=1) + "\n")


def fit(model: Any, batches: Iterator[Batch], run: Run, state: dict[str, Any], *, steps: int,
        validate: Callable[[], dict[str, float]], on_best: Callable[[], None], validate_every: int,
        checkpoint_every: int, stop_after: int | None, label: str, quiet: bool,
        validate_start: bool = False) -> dict[str, Any]:
    """Train ``model`` (compiled) until ``steps`` or ``stop_after`` more, validating and checkpointing.

    ``validate()`` returns scores (higher is better, e.g. PSNR per kind, logged as
    ``<kind>_psnr``); the best mean so far is ``state["best"]``, after which
    ``on_best()`` writes the best weights. Returns the updated state.

    ``validate_start`` (for fine-tunes of trained weights) also scores the model
    before its first step, logged as step 0: the log then shows what the run
    gained, and if no step beats the starting weights they stay the run's best.

    Batches may change shape (the RDN trains on sequences of random length). Keras
    keeps one compiled train function, which TensorFlow retraces with unknown
    dimensions once shapes vary; a model whose Python code loops over such a
    dimension then fails. So each batch shape gets its own train function.
    """
    start, done_before = time.perf_counter(), state["seconds"]
    losses: list[float] = []
    functions: dict[tuple[int, ...], Any] = {}  # one compiled train function per batch shape
    stop = steps if stop_after is None else min(steps, state["step"] + stop_after)

    def record(scores: dict[str, float], loss: float | None) -> None:
        entry = {"step": state["step"], "seconds": round(done_before + time.perf_counter() - start, 1),
                 "loss": loss, **{f"{k}_psnr": round(v, 3) for k, v in scores.items()}}
        state["log"].append(entry)
        run.write_log(state["log"])
        mean = float(np.mean(list(scores.values())))
        if state["best"] is None or mean > state["best"]["mean_psnr"]:
            state["best"] = {"step": state["step"], "mean_psnr": round(mean, 3), **entry}
            on_best()

    if validate_start and state["step"] == 0:
        record(validate(), None)
    scored = ""  # the last validation, shown beside the running loss
    with step_progress(label, steps, completed=state["step"], quiet=quiet) as progress:
        while state["step"] < stop:
            x, y = next(batches)
            model.train_function = functions.get(x.shape)
            losses.append(float(np.asarray(model.train_on_batch(x, y))))
            functions[x.shape] = model.train_function
            state["step"] += 1
            step = state["step"]
            if step % validate_every == 0 or step == steps:
                scores = validate()
                record(scores, round(float(np.mean(losses)), 6))
                losses = []
                scored = " ".join(f"{k} {v:.2f} dB" for k, v in scores.items())
            if step % checkpoint_every == 0 or step == stop:
                state["seconds"] = round(done_before + time.perf_counter() - start, 1)
                run.save(model, state)
            loss = f"loss {np.mean(losses[-50:]):.4f}" if losses else ""
            progress.update(step, " ".join(part for part in (loss, scored) if part))
    return state
