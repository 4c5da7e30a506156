"""The executor contract on the ``local`` executor: every result once, a dead worker's item rerun, a raising
item named at once, and no process left behind."""

import json
import os
import time

import pytest
from executor_jobs import die_always_held, fail_on_three, sleep_and_tell, square

from mfcore import ExecutorError, InputError, get_executor
from mfcore.testing import ask_die_once, ask_with_pid, assert_clean_error, die_always, die_once, load_logged

pytestmark = pytest.mark.backend_independent


@pytest.fixture
def pool():
    with get_executor("local").start(2) as started:
        yield started


def test_every_item_comes_back_once_with_its_position(pool):
    results = dict(pool.map_unordered(square, list(range(7))))
    assert results == {i: i * i for i in range(7)}


def test_an_item_whose_worker_dies_is_rerun(pool, tmp_path):
    items = [(x, str(tmp_path)) for x in range(3)]
    assert dict(pool.map_unordered(die_once, items, retries=1)) == {0: 0, 1: 1, 2: 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["died-0", "died-1", "died-2"]


def test_a_worker_that_always_dies_is_reported_with_how(pool):
    with pytest.raises(ExecutorError, match=r"item 0: its worker process was killed by SIGKILL on each of 3 tries"):
        list(pool.map_unordered(die_always, [0], retries=2))


def test_a_raising_item_ends_the_run_at_once_named(pool):
    with pytest.raises(ExecutorError, match=r"item 3 failed: ValueError: three is not allowed"):
        list(pool.map_unordered(fail_on_three, list(range(6)), retries=5))


def test_stopping_early_kills_the_running_processes(tmp_path):
    with get_executor("local").start(2) as pool:
        results = pool.map_unordered(sleep_and_tell, [(0, str(tmp_path)), (1, str(tmp_path))])
        assert next(results) == (0, 0)
        deadline = time.monotonic() + 60
        while not (tmp_path / "pid-1").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = int((tmp_path / "pid-1").read_text())
        results.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def loads(folder, x):
    return (folder / f"loads-{x}").read_text().split()


def test_held_objects_are_loaded_once_spread_over_the_workers_and_asked_many_times(pool, tmp_path):
    with pool.hold(load_logged, [(x, str(tmp_path)) for x in range(5)]) as held:
        for arg in (10, 20, 30):
            answers = dict(held.ask(ask_with_pid, arg))
            assert {x: value for x, (value, _) in answers.items()} == {x: x + arg for x in range(5)}
    pids = {x: pid for x, (_, pid) in answers.items()}
    assert pids[0] == pids[2] == pids[4] != pids[1] == pids[3]  # item i on worker i % 2
    assert all(loads(tmp_path, x) == [str(pids[x])] for x in range(5))  # once each, in the process holding it


def test_a_dead_holder_is_started_again_reloads_and_is_asked_again(pool, tmp_path):
    (tmp_path / "marks").mkdir()
    with pool.hold(load_logged, [(x, str(tmp_path)) for x in range(3)], retries=2) as held:
        assert dict(held.ask(ask_die_once, str(tmp_path / "marks"))) == {0: 0, 1: 1, 2: 2}
        assert dict(held.ask(ask_with_pid, 1))[0][0] == 1
    assert [len(loads(tmp_path, x)) for x in range(3)] == [3, 2, 3]  # worker 0 (items 0, 2) died twice


def test_a_holder_that_always_dies_is_reported_and_the_others_still_answer(pool, tmp_path):
    with pool.hold(load_logged, [(x, str(tmp_path)) for x in range(2)], retries=1) as held:
        with pytest.raises(ExecutorError, match=r"holder \d: its worker process was killed by SIGKILL on each of 2 "
                                                r"tries"):
            list(held.ask(die_always_held, None))
        assert {x: value for x, (value, _) in held.ask(ask_with_pid, 5)} == {0: 5, 1: 6}  # restarted and reloaded


def test_failures_to_load_or_answer_name_the_item(pool, tmp_path):
    with pytest.raises(ExecutorError, match=r"item 1 failed to load: ValueError: cannot load -3"):
        pool.hold(load_logged, [(0, str(tmp_path)), (-3, str(tmp_path))])
    with pool.hold(load_logged, [(0, str(tmp_path))]) as held:
        with pytest.raises(ExecutorError, match=r"item 0 failed: TypeError"):
            list(held.ask(ask_with_pid, None))
        assert dict(held.ask(ask_with_pid, 2))[0][0] == 2


def test_the_local_executor_joins_no_cluster():
    with pytest.raises(InputError, match="--address is for an executor that joins a cluster"):
        get_executor("local").start(1, address="head:6379")


def test_an_unknown_executor_is_one_clear_line():
    with pytest.raises(ExecutorError, match=r"executor 'nosuch' is not installed \(installed: local"):
        get_executor("nosuch")


def test_executors_list(mf):
    result = mf("executors", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["executor"]: row for row in json.loads(result.stdout)["executors"]}
    assert rows["local"]["available"] is True and rows["local"]["reason"] is None
    assert mf("executors", "list").returncode == 0


@pytest.mark.parametrize("args,fragment", [
    (("--executor", "local", "--address", "head:6379", "--shards", "2"), "--address is for an executor that joins"),
    (("--executor", "nosuch", "--shards", "2"), "executor 'nosuch' is not installed"),
    (("--address", "head:6379"), "add --shards N"),
    (("--shards", "9"), "cannot split 4 items into 9 shards"),
])
def test_bad_executor_options_are_one_line_and_write_nothing(mf, tmp_path, args, fragment):
    assert_clean_error(mf("synth", "data", "-o", tmp_path / "out", "-n", "4", *args), fragment)
    assert list(tmp_path.iterdir()) == []


def test_bench_scale_measures_each_executor(mf, tmp_path):
    result = mf("bench", "scale", "--samples-per-shard", "3", "--shards", "2", "--workers", "1,2", "-e", "local",
                "--markdown", tmp_path / "scale.md", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = {row["workers"]: row for row in report["synthesis"]}
    assert set(rows) == {1, 2} and all(row["samples"] == 6 and row["samples_per_s"] > 0 for row in rows.values())
    assert rows[1]["speedup_over_1"] == 1.0
    assert report["cost_per_task"][0]["executor"] == "local" and report["cost_per_task"][0]["empty_task_ms"] > 0
    assert "Cost per task" in (tmp_path / "scale.md").read_text()
    assert_clean_error(mf("bench", "scale", "--workers", "1,zero"), "expected comma-separated positive integers")
    assert_clean_error(mf("bench", "scale", "-e", "nosuch"), "executor 'nosuch' is not installed")
