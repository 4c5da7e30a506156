import os
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

from mfcore.stream import SampleStream, WorkerDied, WorkerError
from mfcore.testing import interruptible

sys.path.insert(0, os.path.dirname(__file__))
import streamgen  # noqa: E402

HERE = os.path.dirname(__file__)


def expected_values(seed: int, workers: int, count: int) -> dict[int, np.ndarray]:
    """What worker w must produce for index s*workers + w, reproduced in-process."""
    out = {}
    for w, child in enumerate(np.random.SeedSequence(seed).spawn(workers)):
        rng = np.random.default_rng(child)
        share = count // workers + (w < count % workers)
        for s in range(share):
            out[s * workers + w] = streamgen.counter(rng)["value"]
    return out


@pytest.mark.parametrize("workers", [1, 3])
def test_every_sample_arrives_exactly_once_with_independent_seeds(workers):
    count = 101
    want = expected_values(7, workers, count)
    got, pids = {}, set()
    with SampleStream(streamgen.counter, workers=workers, seed=7, count=count, hwm=4) as stream:
        for index, sample in stream.indexed():
            assert index not in got
            got[index] = sample["value"]
            pids.add(int(sample["pid"]))
    assert sorted(got) == list(range(count))
    for index, value in want.items():
        np.testing.assert_array_equal(got[index], value)
    assert len(pids) == workers and os.getpid() not in pids
    if workers > 1:  # different workers draw different numbers
        assert not np.array_equal(got[0], got[1])


def test_worker_exception_is_reraised_with_its_traceback():
    with pytest.raises(WorkerError, match="synthetic failure in generator") as info:
        with SampleStream(streamgen.failing, workers=2, count=10) as stream:
            list(stream)
    assert "Traceback" in str(info.value) and "streamgen.py" in str(info.value)


def test_killed_worker_is_reported_within_seconds():
    with SampleStream(streamgen.slow, workers=2, hwm=2) as stream:
        it = iter(stream)
        next(it)
        victim = stream.pids[1]
        os.kill(victim, signal.SIGKILL)
        start = time.monotonic()
        with pytest.raises(WorkerDied, match=f"worker 1 \\(pid {victim}\\) was killed by SIGKILL"):
            for _ in it:
                if time.monotonic() - start > 30:
                    break
        assert time.monotonic() - start < 5


def test_close_reaps_workers_even_when_blocked_on_back_pressure():
    stream = SampleStream(streamgen.counter, workers=2, hwm=1).start()
    next(iter(stream))
    time.sleep(0.5)  # workers now block: the consumer is not reading
    pids = stream.pids
    stream.close()
    for pid in pids:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


CONSUMER = """
import sys
sys.path.insert(0, {here!r})
import streamgen
from mfcore.stream import SampleStream

if __name__ == "__main__":
    stream = SampleStream(streamgen.slow, workers=2, hwm=2).start()
    it = iter(stream)
    next(it)
    print(" ".join(map(str, stream.pids)), flush=True)
    if sys.argv[1] == "exit":
        stream.close()
        sys.exit(0)
    try:
        for _ in it:
            pass
    finally:
        stream.close()
"""


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.parametrize("how", ["exit", "sigint", "sigterm", "sigkill"])
def test_no_orphan_processes_after_the_consumer_ends(how, tmp_path):
    script = tmp_path / "consumer.py"
    script.write_text(CONSUMER.format(here=HERE))
    proc = subprocess.Popen([sys.executable, str(script), how], stdout=subprocess.PIPE, text=True,
                            preexec_fn=interruptible)
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    descendants = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    assert set(pids) <= set(descendants)
    sig = {"sigint": signal.SIGINT, "sigterm": signal.SIGTERM, "sigkill": signal.SIGKILL}.get(how)
    if sig is not None:
        proc.send_signal(sig)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in descendants) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in descendants if _alive(p)], f"orphans left after {how}"


def test_workers_read_an_lmdb_dataset_the_parent_has_open(tmp_path):
    from mfcore.store import Dataset, DatasetWriter

    with DatasetWriter(tmp_path / "d.lmdb") as writer:
        for i in range(50):
            writer.append({"x": np.full((4,), i, np.float32)})
    dataset = Dataset(tmp_path / "d.lmdb")
    assert dataset[0]["x"][0] == 0  # open and mapped in the parent before the workers start
    with SampleStream(streamgen.DatasetPicker(dataset), workers=2, count=40) as stream:
        samples = list(stream)
    assert len(samples) == 40
    for sample in samples:
        np.testing.assert_array_equal(sample["x"], np.full((4,), sample["index"], np.float32))
