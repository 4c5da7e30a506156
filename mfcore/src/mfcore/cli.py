"""The ``mf`` command line.

Commands are built from whatever the installed plugins provide: every task's
``run``/``train``/``bench`` function becomes ``mf run|train|bench TASK`` with
the core's ``--backend``, ``--seed`` and ``--json`` options added. Errors are
one line on stderr and a non-zero exit; ``--debug`` (anywhere on the line)
shows the traceback instead.
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from . import __version__
from .backends import all_backends, broken_backends, get_backend
from .data.shards import open_dataset, write_sharded
from .data.store import DatasetWriter
from .data.stream import SampleStream
from .errors import InputError, MfError
from .executor import AddressOption, Executor, ExecutorOption
from .executors import all_executors, broken_executors, get_executor
from .kit.keras_models import card_path, load_model
from .kit.progress import tracked
from .kit.report import Report
from .model import ModelSpec
from .output import emit, error, print_table, stdout
from .plugins import registry
from .synthesizer import BoundSynthesizer
from .task import RunContext, Task

BackendOption = Annotated[
    str, typer.Option("--backend", "-b", envvar="MF_BACKEND", help="Compute backend (see `mf backends list`).")
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for every random generator.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


class TaskGroup(TyperGroup):
    """A command group whose subcommands are tasks; an unknown task is one clear line."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and not args[0].startswith("-") and self.get_command(ctx, args[0]) is None:
            names = ", ".join(self.list_commands(ctx)) or "none"
            raise MfError(f"unknown task {args[0]!r} for 'mf {ctx.info_name}' (available: {names})")
        return super().resolve_command(ctx, args)


def _default_backend(task: Task) -> str:
    return "numpy" if "numpy" in task.backends else task.backends[0]  # MF_BACKEND overrides via the option


def _context(backend: str, seed: int, as_json: bool, task: Task | None = None, what: str = "") -> RunContext:
    """The activated backend and options a command runs with; ``task`` limits the backends to those it lists."""
    chosen = get_backend(backend, task.backends if task else None, what=f"task {task.name!r}" if task else what)
    chosen.activate(seed)
    return RunContext(chosen, seed=seed, json=as_json)


def _task_command(task: Task, func: Callable[..., Any]) -> Callable[..., None]:
    """Wrap a plugin's command function into a Typer command with the core options."""
    signature = inspect.signature(func, eval_str=True)
    own = list(signature.parameters.values())[1:]  # the first parameter receives the RunContext
    kw = inspect.Parameter.KEYWORD_ONLY
    core = [
        inspect.Parameter("backend", kw, annotation=BackendOption, default=_default_backend(task)),
        inspect.Parameter("seed", kw, annotation=SeedOption, default=0),
        inspect.Parameter("json_output", kw, annotation=JsonOption, default=False),
    ]

    def command(**kwargs: Any) -> None:
        ctx = _context(kwargs.pop("backend"), kwargs.pop("seed"), kwargs.pop("json_output"), task)
        result = func(ctx, **kwargs)
        if result is not None:
            emit(result, ctx.json)

    command.__signature__ = signature.replace(parameters=own + core, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in own + core}
    command.__doc__ = inspect.getdoc(func) or task.summary
    return command


def _verb_group(verb: str, help_text: str) -> typer.Typer:
    group = typer.Typer(cls=TaskGroup, help=help_text, add_completion=False)
    for task in registry().tasks().values():
        func = task.commands.get(verb)
        if func is not None:
            group.command(task.name, help=inspect.getdoc(func) or task.summary)(_task_command(task, func))
    return group


def _parse_settings(settings: list[str]) -> dict[str, Any]:
    """``k=v`` pairs; values are read as JSON when they parse (numbers, booleans, lists)."""
    parsed: dict[str, Any] = {}
    for item in settings:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise InputError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            parsed[key] = json.loads(raw)
        except ValueError:
            parsed[key] = raw
    return parsed


def plugins_list(json_output: JsonOption = False) -> None:
    """List installed plugins with their tasks, generators, models and indexes."""
    rows = []
    for info in registry().plugins:
        rows.append({
            "plugin": info.name,
            "version": info.version,
            "distribution": info.distribution,
            "status": "broken" if info.broken else "ok",
            "error": info.error,
            "tasks": [{"name": t.name, "summary": t.summary, "backends": list(t.backends),
                       "commands": sorted(t.commands), "subcommands": sorted(t.subcommands)}
                      for t in info.tasks],
            "generators": [s.qualified_name for s in info.synthesizers],
            "models": [f"{m.task}/{m.name}" for m in info.models],
            "indexes": [i.name for i in info.indexes],
        })
    if json_output:
        emit({"plugins": rows}, True)
        return
    view = [{
        "plugin": r["plugin"], "version": r["version"], "distribution": r["distribution"],
        "tasks (backends)": "; ".join(f"{t['name']} ({', '.join(t['backends'])})" for t in r["tasks"]),
        "generators": r["generators"], "models": r["models"], "indexes": r["indexes"],
        "status": r["error"] and f"broken: {r['error']}" or "ok",
    } for r in rows]
    print_table(view, title="mf plugins")


def backends_list(json_output: JsonOption = False) -> None:
    """List installed backends: version, availability (or why not), device, Keras backend."""
    rows = []
    for name, backend in all_backends().items():
        availability = backend.is_available()
        rows.append({
            "backend": name,
            "version": backend.version(),
            "available": availability.ok,
            "device": backend.device() if availability else None,
            "reason": availability.reason or None,
            "keras_backend": backend.keras_backend,
        })
    for broken in broken_backends():
        rows.append({"backend": broken.name, "version": None, "available": False, "device": None,
                     "reason": f"broken entry point in {broken.distribution}: {broken.error}", "keras_backend": None})
    if json_output:
        emit({"backends": rows}, True)
        return
    view = [{**r, "available": "yes" if r["available"] else "no"} for r in rows]
    print_table(view, title="mf backends")


def executors_list(json_output: JsonOption = False) -> None:
    """List installed executors (where `mf synth --shards` work runs): version, availability (or why not)."""
    rows = []
    for name, executor in all_executors().items():
        availability = executor.is_available()
        rows.append({"executor": name, "version": executor.version(), "available": availability.ok,
                     "reason": availability.reason or None, "summary": executor.summary})
    for broken in broken_executors():
        rows.append({"executor": broken.name, "version": None, "available": False,
                     "reason": f"broken entry point in {broken.distribution}: {broken.error}", "summary": None})
    if json_output:
        emit({"executors": rows}, True)
        return
    print_table([{**r, "available": "yes" if r["available"] else "no"} for r in rows], title="mf executors")


def _card_summary(spec: ModelSpec) -> dict[str, Any]:
    """What a model card says about training, for ``mf models list`` (empty when the card is unreadable)."""
    try:
        card = json.loads(card_path(spec.weights).read_text())
    except (OSError, ValueError):
        return {}
    return {key: card.get(key) for key in ("preset", "width", "trained_steps", "date", "mf_version")
            if card.get(key) is not None}


def models_list(json_output: JsonOption = False) -> None:
    """List the networks plugins ship: their weights file, its size, and what the card says of training."""
    rows = []
    for spec in registry().models():
        size = spec.weights.stat().st_size if spec.has_weights else None
        rows.append({"model": f"{spec.task}/{spec.name}", "summary": spec.summary, "weights": str(spec.weights),
                     "present": spec.has_weights, "megabytes": None if size is None else round(size / 1e6, 2),
                     "card": _card_summary(spec), "train_command": spec.train_command})
    if json_output:
        emit({"models": rows}, True)
        return
    print_table([{**{k: v for k, v in r.items() if k not in ("card", "summary", "train_command")},
                  "present": "yes" if r["present"] else "no",
                  "trained": ", ".join(f"{k} {v}" for k, v in r["card"].items())} for r in rows], title="mf models")


def models_verify(
    names: Annotated[list[str] | None, typer.Argument(metavar="[TASK/NAME]...",
                                                      help="Models to verify (default: all).")] = None,
    backend: BackendOption = "numpy",
    json_output: JsonOption = False,
) -> None:
    """Build every shipped network from its card and load its weights; exit non-zero if any fails."""
    specs = {f"{s.task}/{s.name}": s for s in registry().models()}
    unknown = sorted(set(names or []) - set(specs))
    if unknown:
        raise MfError(f"unknown model(s) {', '.join(unknown)}; installed: {', '.join(sorted(specs)) or 'none'}")
    ctx = _context(backend, 0, json_output, what="mf models verify")
    rows = []
    for name in names or sorted(specs):
        try:
            model, _ = load_model(specs[name], ctx)
        except MfError as exc:
            rows.append({"model": name, "ok": False, "parameters": None, "error": str(exc)})
        else:
            rows.append({"model": name, "ok": True, "parameters": int(model.count_params()), "error": None})
    emit({"models": rows}, json_output)
    failed = [r["model"] for r in rows if not r["ok"]]
    if failed:
        raise MfError(f"{len(failed)} of {len(rows)} model(s) failed to load: {', '.join(failed)}")


def synth(
    task: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="Dataset file to write (LMDB).")],
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="Number of samples.")] = 1000,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="Worker processes.")] = 1,
    generator: Annotated[str | None, typer.Option("--generator", "--kind", "-g",
                                                  help="Generator NAME (or TASK/NAME).")] = None,
    images: Annotated[Path | None, typer.Option("--images", help="Folder of your sharp images to synthesise from "
                                                "(the generator's `images` parameter).")] = None,
    videos: Annotated[Path | None, typer.Option("--videos", help="Folder of your videos to synthesise from "
                                                "(the generator's `videos` parameter).")] = None,
    settings: Annotated[list[str] | None, typer.Option("--set", help="Generator parameter KEY=VALUE.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing dataset.")] = False,
    shards: Annotated[int | None, typer.Option("--shards", min=1, help="Write N LMDB shards and a manifest into "
                                               "the folder --output, each shard a task of --executor.")] = None,
    executor: ExecutorOption = "local",
    address: AddressOption = None,
    seed: SeedOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Synthesise a training dataset with worker processes and store it in LMDB (one file, or --shards N)."""
    synths = registry().synthesizers(task)
    name = generator if generator is None or "/" in generator else f"{task}/{generator}"
    if name is None:
        if len(synths) > 1:
            raise MfError(f"task {task!r} has several generators ({', '.join(synths)}); pick one with --generator")
        name = next(iter(synths))
    if name not in synths:
        raise MfError(f"unknown generator {name!r}; available: {', '.join(synths)}")
    if shards is None and (executor != "local" or address is not None):
        raise InputError("--executor and --address place the shards of a sharded dataset: add --shards N")
    if shards is None and output.exists() and not overwrite:
        raise MfError(f"{output} exists; pass --overwrite to replace it")
    spec = synths[name]
    folders = {key: str(folder.resolve()) for key, folder in (("images", images), ("videos", videos)) if folder}
    for key, folder in folders.items():
        if not Path(folder).is_dir():
            raise InputError(f"--{key} {folder}: not a folder")
    bound = spec.bind(**_parse_settings(settings or []), **folders)
    bound.check(seed, name)
    if shards is not None:
        _synth_shards(output, bound, name, count, shards, get_executor(executor), workers, address, overwrite, seed,
                      json_output)
        return
    metadata = {"generator": name, "params": dict(bound.params), "seed": seed, "workers": workers,
                "version": __version__}
    start = time.perf_counter()
    with DatasetWriter(output, metadata=metadata) as writer, \
            SampleStream(bound, workers=workers, seed=seed, count=count) as stream:
        for index, sample in tracked(stream.indexed(), f"synth {name}", count, quiet=json_output):
            writer.put(index, sample)
    seconds = time.perf_counter() - start
    size = output.stat().st_size
    emit({"dataset": str(output), "generator": name, "count": writer.count, "workers": workers,
          "seconds": round(seconds, 3), "samples_per_s": round(writer.count / seconds, 1),
          "megabytes": round(size / 1e6, 2)}, json_output)


def _synth_shards(output: Path, bound: BoundSynthesizer, name: str, count: int, shards: int, executor: Executor,
                  workers: int, address: str | None, overwrite: bool, seed: int, json_output: bool) -> None:
    """``mf synth --shards``: each shard a task of ``executor``; the folder appears when all are written."""
    metadata = {"generator": name, "params": dict(bound.params), "version": __version__, "executor": executor.name}
    start = time.perf_counter()
    with executor.start(workers, address) as pool:
        written = write_sharded(output, bound, count=count, shards=shards, seed=seed, pool=pool, metadata=metadata,
                                overwrite=overwrite)
        entries = list(tracked(written, f"synth {name}: shards", shards, quiet=json_output))
    seconds = time.perf_counter() - start
    emit({"dataset": str(output), "generator": name, "count": count, "shards": len(entries),
          "executor": executor.name, "workers": workers, "seconds": round(seconds, 3),
          "samples_per_s": round(count / seconds, 1),
          "megabytes": round(sum(entry["bytes"] for entry in entries) / 1e6, 2)}, json_output)


def _lmdb_synth(task: str) -> Callable[..., None]:
    """``mf synth TASK``: :func:`synth` with its task fixed, for a task whose data are generator samples."""

    def command(**kwargs: Any) -> None:
        synth(task, **kwargs)

    signature = inspect.signature(synth, eval_str=True)
    own = [p for name, p in signature.parameters.items() if name != "task"]
    command.__signature__ = signature.replace(parameters=own)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in own}
    command.__doc__ = inspect.getdoc(synth)
    return command


def _synth_group() -> typer.Typer:
    """``mf synth TASK``: a task's own ``synth`` command, else the generic LMDB writer of its generators."""
    group = typer.Typer(cls=TaskGroup, help="Synthesise training data: generator samples into LMDB, or a task's "
                                            "own data.", add_completion=False)
    tasks = registry().tasks()
    names = {s.task for s in registry().synthesizers().values()} | {t.name for t in tasks.values()
                                                                     if "synth" in t.commands}
    for name in sorted(names):
        task = tasks.get(name)
        if task is not None and "synth" in task.commands:
            func = task.commands["synth"]
            group.command(name, help=inspect.getdoc(func) or task.summary)(_task_command(task, func))
        else:
            group.command(name, help=f"Synthesise {name} samples with worker processes into an LMDB "
                                     "dataset.")(_lmdb_synth(name))
    return group


def dataset_info(
    path: Annotated[Path, typer.Argument(help="Dataset written by mf: an LMDB file, or a sharded dataset's folder.")],
    check: Annotated[bool, typer.Option("--check", help="Read every sample and verify its CRC.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Show a dataset's metadata record; with --check, verify every sample (of every shard)."""
    dataset = open_dataset(path)
    meta = dataset.metadata
    if check:
        for _ in tracked(dataset, "checking", len(dataset), quiet=json_output):
            pass
    emit({"dataset": str(path), "count": len(dataset), "checked": check,
          **{k: meta.get(k) for k in ("generator", "params", "seed", "workers", "version", "created")},
          **{k: meta[k] for k in ("shard_count", "executor") if k in meta},
          "shapes": [{"key": k, **v} for k, v in meta.get("shapes", {}).items()]}, json_output)


def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the HTML report.")] = Path("mf-demo"),
    backend: BackendOption = "numpy",
    seed: SeedOption = 0,
    json_output: JsonOption = False,
) -> None:
    """Run every task's demo on bundled sample photos and write an HTML report."""
    tasks = [t for t in registry().tasks().values() if "demo" in t.commands]
    if not tasks:
        raise MfError("no installed task has a demo; install a plugin such as mf-deblur")
    report = Report(output, "mf demo", meta={"mf": __version__, "backend": backend, "seed": seed})
    results: list[dict[str, Any]] = []
    for task in tasks:
        ctx = _context(backend, seed, json_output, task)
        section = task.commands["demo"](ctx, report.section_folder(task.name))
        report.add(section)
        results += [{"task": task.name, "case": case, **values} for case, values in section.metrics.items()]
    index = report.write()
    emit({"report": str(index.resolve()), "results": results}, json_output)


def _print_version(value: bool) -> None:
    if value:
        stdout.print(f"mf {__version__}")
        raise typer.Exit(0)


def build_app() -> typer.Typer:
    app = typer.Typer(name="mf", help="mf: multi-frame computer vision.", add_completion=False,
                      pretty_exceptions_enable=False)

    @app.callback()
    def root(
        version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                              help="Print the version and exit.")] = False,
        debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")] = False,
    ) -> None:
        """mf: multi-frame computer vision."""

    plugins = typer.Typer(help="Installed plugins.", add_completion=False)
    plugins.command("list")(plugins_list)
    backends = typer.Typer(help="Installed compute backends.", add_completion=False)
    backends.command("list")(backends_list)
    app.add_typer(plugins, name="plugins")
    app.add_typer(backends, name="backends")
    executors = typer.Typer(help="Installed executors: where sharded work runs.", add_completion=False)
    executors.command("list")(executors_list)
    app.add_typer(executors, name="executors")
    models = typer.Typer(help="Networks shipped by plugins, with their weights.", add_completion=False)
    models.command("list")(models_list)
    models.command("verify")(models_verify)
    app.add_typer(models, name="models")
    datasets = typer.Typer(help="LMDB datasets (files or sharded folders) written by `mf synth`.",
                           add_completion=False)
    datasets.command("info")(dataset_info)
    app.add_typer(datasets, name="dataset")
    app.add_typer(_verb_group("run", "Run a task on your data."), name="run")
    app.add_typer(_verb_group("train", "Train a task's model."), name="train")
    app.add_typer(_verb_group("bench", "Benchmark a task against its peers."), name="bench")
    app.add_typer(_synth_group(), name="synth")
    app.command()(demo)
    for task in registry().tasks().values():
        if task.subcommands:
            group = typer.Typer(help=task.summary, add_completion=False)
            for verb, func in task.subcommands.items():
                group.command(verb, help=inspect.getdoc(func) or task.summary)(_task_command(task, func))
            app.add_typer(group, name=task.name)
    return app


_signalled: list[int] = []


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C (temporary files removed, workers reaped); only the last line differs."""
    _signalled.append(signum)
    raise KeyboardInterrupt


def _stopped() -> int:
    """Print why the run stopped early; return its exit status (128 + the signal number)."""
    if _signalled:
        error("terminated")
        return 128 + _signalled[-1]
    error("interrupted")
    return 130


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``mf`` script."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("MF_DEBUG") == "1"
    args = [a for a in args if a != "--debug"] or ["--help"]
    signal.signal(signal.SIGTERM, _terminate)
    try:
        command = typer.main.get_command(build_app())
        result = command.main(args=args, prog_name="mf", standalone_mode=False)
        code = result if isinstance(result, int) else 0
        if code == 130:  # Typer turns Ctrl-C inside a command into Exit(130)
            code = _stopped()
    except (KeyboardInterrupt, typer.Abort):
        code = _stopped()
    except (MfError, typer.TyperException) as exc:
        if debug:
            raise
        message = exc.format_message() if isinstance(exc, typer.TyperException) else str(exc)
        error(message.strip().splitlines()[0] if message.strip() else type(exc).__name__)
        code = exc.exit_code
    except Exception as exc:
        if debug:
            raise
        error(f"internal error, {type(exc).__name__}: {exc} (rerun with --debug for the traceback)".splitlines()[0])
        code = 1
    sys.exit(code)
