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
        for key, value in overrides.items():
            _check_type(self.qualified_name, key, value, self.params[key])
        return BoundSynthesizer(self.fn, {**self.params, **overrides})


def _check_type(generator: str, key: str, value: Any, default: Any) -> None:
    """A parameter keeps the type of its default (an int is also a float); ``None`` defaults take anything."""
    if default is None:
        return
    kind = type(default)
    ok = isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool)
    ok = ok or kind is float and isinstance(value, int) and not isinstance(value, bool)
    if not ok:
        raise InputError(f"generator {generator}: parameter {key} must be {kind.__name__} like its default "
                         f"{default!r}, got {value!r}")


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
            sample = self(np.random.default_rng(seed))
        except MfError:
            raise
        except Exception as exc:
            raise MfError(f"generator {name} failed on its first sample: {type(exc).__name__}: {exc}") from exc
        for key, value in sample.items():
            array = np.asarray(value)
            if array.size == 0 and array.ndim:
                raise InputError(f"generator {name} made an empty {key!r} of shape {array.shape} with parameters "
                                 f"{dict(self.params)}: check the sizes you set")
            if array.dtype.kind in "fc" and not np.isfinite(array).all():
                raise InputError(f"generator {name} made non-finite values in {key!r} with parameters "
                                 f"{dict(self.params)}")
