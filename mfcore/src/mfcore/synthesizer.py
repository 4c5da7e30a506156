"""Sample generators: the unit the data layer parallelises and stores.

A synthesizer is a pure function of a NumPy random generator and keyword
parameters that returns one training sample, a dict of NumPy arrays. Because
it only depends on the generator it is given, ``mf synth`` can run it in many
worker processes with independent seeds and still reproduce every dataset from
its metadata record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError, MfError

Sample = dict[str, np.ndarray]


@dataclass(frozen=True)
class Synthesizer:
    """A named sample generator belonging to a task.

    ``fn(rng, **params)`` must be a module-level function (it is pickled to worker
    processes); ``params`` holds the defaults that ``mf synth --set k=v`` overrides.
    """

    task: str
    name: str
    summary: str
    fn: Callable[..., Sample]
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return f"{self.task}/{self.name}"

    def bind(self, **overrides: Any) -> BoundSynthesizer:
        unknown = set(overrides) - set(self.params)
        if unknown:
            raise InputError(
                f"generator {self.qualified_name} has no parameter(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(self.params)) or 'none'}"
            )
        return BoundSynthesizer(self.fn, {**self.params, **overrides})


@dataclass(frozen=True)
class BoundSynthesizer:
    """A synthesizer with fixed parameters: a picklable ``rng -> sample`` callable."""

    fn: Callable[..., Sample]
    params: Mapping[str, Any]

    def __call__(self, rng: np.random.Generator) -> Sample:
        return self.fn(rng, **self.params)

    def check(self, seed: int, name: str) -> None:
        """Draw one sample here, before any worker starts: bad parameters fail as one clear line."""
        try:
            self(np.random.default_rng(seed))
        except MfError:
            raise
        except Exception as exc:
            raise MfError(f"generator {name} failed on its first sample: {type(exc).__name__}: {exc}") from exc
