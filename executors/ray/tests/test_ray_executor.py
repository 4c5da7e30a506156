"""The ``ray`` executor against real Ray clusters on this machine: a private local one, and a simulated two-node
cluster (``ray.cluster_utils.Cluster``) that loses a worker process and then a whole node mid-run."""

import json
import sys
import time

import numpy as np
import pytest

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

from mfcore import ExecutorError, get_executor  # noqa: E402
from mfcore.data import ShardedDataset, sample_rng  # noqa: E402
from mfcore.testing import (  # noqa: E402
    ask_die_once,
    ask_with_pid,
    assert_clean_error,
    die_always,
    die_once,
    load_logged,
)

# Ray workers import functions by module name; this test module is not installed, so ship its functions by value.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


def node_of(x: int) -> tuple[int, str]:
    time.sleep(0.5)  # long enough that one node cannot take every task before the other starts
    return x, ray.get_runtime_context().get_node_id()


def node_of_held(held: int, arg: object) -> str:
    return ray.get_runtime_context().get_node_id()


def slow(x: int) -> int:
    time.sleep(3)
    return x


def patches(rng):
    from mfcore.builtin import patches as bundled  # the core's own generator, as `mf synth data` runs it
    return bundled(rng, size=16)


@pytest.fixture(scope="module")
def cluster():
    """A head node and a worker node, one CPU each, as two raylets on this machine."""
    two = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker = two.add_node(num_cpus=1)
    ray.init(address=two.address, log_to_driver=False)
    two.wait_for_nodes()
    yield two, worker
    ray.shutdown()
    two.shutdown()


def test_ray_is_listed_available(mf):
    result = mf("executors", "list", "--json")
    rows = {row["executor"]: row for row in json.loads(result.stdout)["executors"]}
    assert rows["ray"]["available"] is True and rows["ray"]["version"] == ray.__version__


def test_mf_synth_on_a_private_local_cluster_makes_the_local_executors_samples(mf, tmp_path):
    result = mf("synth", "data", "-o", tmp_path / "ray", "-n", "6", "--shards", "3", "-w", "2", "--set", "size=16",
                "--executor", "ray", "--json")
    assert result.returncode == 0, result.stderr
    reference = [patches(sample_rng(0, i)) for i in range(6)]
    dataset = ShardedDataset(tmp_path / "ray")
    assert dataset.metadata["executor"] == "ray"
    for sample, expected in zip(dataset, reference, strict=True):
        np.testing.assert_array_equal(sample["image"], expected["image"])


def test_tasks_spread_over_both_nodes(cluster):
    with get_executor("ray").start(2) as pool:
        nodes = {node for _, (_, node) in pool.map_unordered(node_of, list(range(6)))}
    assert len(nodes) == 2


def test_a_worker_killed_mid_run_is_retried(cluster, tmp_path):
    with get_executor("ray").start(2) as pool:
        items = [(x, str(tmp_path)) for x in range(4)]
        assert dict(pool.map_unordered(die_once, items, retries=1)) == {x: x for x in range(4)}
    assert len(list(tmp_path.iterdir())) == 4


def test_a_worker_that_always_dies_is_one_clear_error(cluster):
    with get_executor("ray").start(2) as pool, pytest.raises(ExecutorError, match="item 0: its Ray worker died on "
                                                                                  "each of 2 tries"):
        list(pool.map_unordered(die_always, [0], retries=1))


def test_held_objects_live_in_actors_on_both_nodes_restarted_with_their_objects_when_killed(cluster, tmp_path):
    (tmp_path / "marks").mkdir()
    with get_executor("ray").start(2) as pool, pool.hold(load_logged, [(x, str(tmp_path)) for x in range(4)]) as held:
        assert len(set(dict(held.ask(node_of_held, None)).values())) == 2
        assert dict(held.ask(ask_die_once, str(tmp_path / "marks"))) == {x: x for x in range(4)}
        assert {x: value for x, (value, _) in held.ask(ask_with_pid, 1)} == {x: x + 1 for x in range(4)}
    # actor h holds items h and h + 2 and dies once on each: loaded at its start and at each of its 2 restarts
    assert [len((tmp_path / f"loads-{x}").read_text().split()) for x in range(4)] == [3, 3, 3, 3]


def test_a_failed_load_names_its_item(cluster, tmp_path):
    with get_executor("ray").start(2) as pool, pytest.raises(ExecutorError, match=r"item 1 failed to load: "
                                                                                  r"ValueError: cannot load -3"):
        pool.hold(load_logged, [(0, str(tmp_path)), (-3, str(tmp_path))])


def test_joining_the_cluster_from_the_command_line_and_losing_a_node_mid_run(cluster, mf, tmp_path):
    two, worker = cluster
    result = mf("synth", "data", "-o", tmp_path / "joined", "-n", "4", "--shards", "2", "--set", "size=16",
                "--executor", "ray", "--address", two.address, "--json")
    assert result.returncode == 0, result.stderr
    assert len(ShardedDataset(tmp_path / "joined")) == 4
    with get_executor("ray").start(2) as pool:
        running = pool.map_unordered(slow, list(range(4)), retries=3)
        time.sleep(1.0)
        two.remove_node(worker)  # the node and every task on it are lost; the head reruns them
        assert dict(running) == {x: x for x in range(4)}


def test_an_unreachable_address_is_one_line_and_writes_nothing(mf, tmp_path):
    result = mf("synth", "data", "-o", tmp_path / "out", "-n", "4", "--shards", "2", "--executor", "ray",
                "--address", "127.0.0.1:9")
    assert_clean_error(result, "cannot reach the Ray cluster at 127.0.0.1:9")
    assert list(tmp_path.iterdir()) == []
