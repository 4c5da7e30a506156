"""``mf bench scale``: sharded synthesis on every executor with 1 and 2 workers, and each executor's cost per task.

* Throughput: ``mf synth --shards`` work (shards of ``--samples-per-shard``
  samples, each generated and written to its LMDB shard) on each available
  executor with each worker count; samples per second from the first task
  handed out to the last shard written (the pool's start, e.g. a local Ray
  cluster's, and a one-sample task per worker that imports the generator,
  is reported apart), and the speed-up over one worker of the same
  executor.
* Cost per task: a task that does nothing, run many times on one worker; its
  round trip against the time of one shard task in this process, which is
  what the executor adds to each task of that size.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from ..data.shards import ShardJob, write_shard, write_sharded
from ..errors import MfError
from ..executor import Executor
from ..kit.bench_executors import BenchExecutorsOption, BenchWorkersOption, add_speedups, bench_executors, positive_ints
from ..kit.bench_report import environment, write_markdown
from ..output import stderr
from ..plugins import registry
from ..synthesizer import BoundSynthesizer
from ..task import RunContext

#: Empty tasks timed per executor for its cost per task.
NOOP_TASKS = 40


def noop(item: int) -> int:
    """A task that does nothing: its round trip is the executor's own cost."""
    return item


def _task_seconds(generator: BoundSynthesizer, samples: int, seed: int, folder: Path) -> float:
    """One shard task, in this process: what every executor's task does, without the executor."""
    start = time.perf_counter()
    write_shard(ShardJob(generator, seed, 0, samples, str(folder / "inline.lmdb"), {}))
    return time.perf_counter() - start


def _throughput(executor: Executor, workers: int, generator: BoundSynthesizer, shards: int, samples: int,
                seed: int, folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with executor.start(workers) as pool:
        warmups = [ShardJob(generator, seed, 0, 1, str(folder / f"warm-{executor.name}-{workers}-{k}.lmdb"), {})
                   for k in range(workers)]
        list(pool.map_unordered(write_shard, warmups))  # workers up, the generator imported, before timing
        warm = time.perf_counter()
        for _ in write_sharded(folder / f"{executor.name}-{workers}", generator, count=shards * samples,
                               shards=shards, seed=seed, pool=pool, metadata={}):
            pass
        seconds = time.perf_counter() - warm
    return {"executor": executor.name, "workers": workers, "shards": shards, "samples": shards * samples,
            "start_s": round(warm - started, 2), "seconds": round(seconds, 2),
            "samples_per_s": round(shards * samples / seconds, 1)}


def _cost_per_task(executor: Executor, task_seconds: float) -> dict[str, Any]:
    with executor.start(1) as pool:
        list(pool.map_unordered(noop, [0]))
        start = time.perf_counter()
        list(pool.map_unordered(noop, list(range(NOOP_TASKS))))
        each = (time.perf_counter() - start) / NOOP_TASKS
    return {"executor": executor.name, "empty_task_ms": round(each * 1e3, 2),
            "shard_task_s": round(task_seconds, 3), "share_of_shard_task": round(each / task_seconds, 4)}


def bench(
    ctx: RunContext,
    generator: Annotated[str, typer.Option("--generator", "-g", help="TASK/NAME generator to synthesise.")]
    = "data/patches",
    samples_per_shard: Annotated[int, typer.Option(min=1, help="Samples per shard (one task).")] = 1000,
    shards: Annotated[int, typer.Option(min=1, help="Shards per run.")] = 8,
    workers: BenchWorkersOption = "1,2",
    executor: BenchExecutorsOption = None,
    markdown: Annotated[Path | None, typer.Option(help="Also write the tables to this Markdown file.")] = None,
) -> dict[str, Any]:
    """Scaling: sharded synthesis on each executor with 1 and 2 workers; each executor's cost per task."""
    synths = registry().synthesizers()
    if generator not in synths:
        raise MfError(f"unknown generator {generator!r}; available: {', '.join(synths)}")
    bound = synths[generator].bind()
    chosen = bench_executors(executor)
    counts = positive_ints(workers)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mf-bench-scale-") as tmp:
        folder = Path(tmp)
        task_seconds = _task_seconds(bound, samples_per_shard, ctx.seed, folder)
        for item in chosen:
            for count in counts:
                stderr.print(f"{item.name}: {count} worker(s)")
                rows.append(_throughput(item, count, bound, shards, samples_per_shard, ctx.seed, folder))
        add_speedups(rows, "samples_per_s", "speedup_over_1")
        costs = [_cost_per_task(item, task_seconds) for item in chosen]
    env = environment(("mf-core", "numpy", "lmdb", "ray"))
    command = (f"mf bench scale -g {generator} --samples-per-shard {samples_per_shard} --shards {shards} "
               f"--workers {workers} " + " ".join(f"-e {e.name}" for e in chosen))
    if markdown is not None:
        write_markdown(markdown, "Executor scaling benchmark", command, env, [
            (f"Sharded synthesis ({generator}, shards of {samples_per_shard} samples)",
             "Each shard is one task: its samples generated and written to an LMDB shard. Seconds from the first "
             "shard handed out to the last written; start_s is the pool's start (a local Ray cluster's included) "
             "and a one-sample task per worker (imports), kept apart. speedup_over_1: against one worker of the same "
             "executor.",
             rows),
            ("Cost per task", f"{NOOP_TASKS} empty tasks on one worker: the round trip of each, against one shard "
             f"task ({samples_per_shard} samples) run in this process.", costs),
        ])
    return {"command": command, **env, "synthesis": rows, "cost_per_task": costs}
