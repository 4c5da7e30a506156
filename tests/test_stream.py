import os
import signal
import subprocess
import sys
import time

import numpy as np
import psutil
import pytest

from mfcore.data import SampleStream, WorkerDied, WorkerError
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
from mfcore.data import SampleStream

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
    from mfcore.data import Dataset, DatasetWriter

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


def test_the_channel_is_a_socket_in_a_folder_only_this_user_can_enter():
    with SampleStream(streamgen.counter, workers=1, count=3) as stream:
        assert stream.address.startswith("ipc://")
        folder = os.path.dirname(stream.address.removeprefix("ipc://"))
        info = os.stat(folder)
        assert info.st_uid == os.getuid() and info.st_mode & 0o777 == 0o700
        assert len(list(stream)) == 3
    assert not os.path.exists(folder)  # removed with the stream


@pytest.mark.skipif(not hasattr(os, "setuid") or os.getuid() != 0, reason="needs root to act as another user")
def test_another_local_user_cannot_reach_the_socket():
    with SampleStream(streamgen.sleepy, workers=1, count=1) as stream:
        path = stream.address.removeprefix("ipc://")
        pid = os.fork()
        if pid == 0:  # the other user: nobody
            try:
                os.setgid(65534)
                os.setuid(65534)
                os.stat(path)
            except PermissionError:
                os._exit(0)
            except BaseException:
                os._exit(2)
            os._exit(1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "another user could reach the stream's socket"


def _forge(address: str, header: object, payload: bytes = b"") -> None:
    import msgpack
    import zmq

    ctx = zmq.Context()
    sock = ctx.socket(zmq.PUSH)
    sock.setsockopt(zmq.LINGER, 2000)
    sock.connect(address)
    raw = header if isinstance(header, bytes) else msgpack.packb(header)
    sock.send_multipart([raw, payload])
    sock.close()
    ctx.term()


@pytest.mark.parametrize(("header", "payload", "message"), [
    ((0, 5, 0), None, "from worker 5, but this run has 2"),
    ((0, 0, 3), None, "sequence number 3, expected 0"),
    ((1, 1, 0), b"", "reported done after 0 of its 2 samples"),
    ((7, 0, 0), b"", "unknown kind 7"),
    (b"\xc1not msgpack", b"", "unreadable header"),
    (("0", 0, 0), b"", "malformed header"),
    ((0, 0, 0), b"MFS1\x00\x00\x00\x00garbage", "undecodable sample 0"),
])
def test_a_message_that_does_not_fit_the_run_ends_it_with_one_clear_error(header, payload, message):
    from mfcore.data import StreamError, serialize

    if payload is None:
        payload = serialize.encode({"value": np.zeros((3, 4), np.float32)})
    with SampleStream(streamgen.sleepy, workers=2, count=4) as stream:
        _forge(stream.address, header, payload)
        with pytest.raises(StreamError, match=message):
            list(stream)


def test_a_stopped_worker_is_reported_as_stalled():
    from mfcore.data import WorkerStalled

    with SampleStream(streamgen.slow, workers=2, hwm=2, beat_s=0.2, stall_s=2.0) as stream:
        it = iter(stream)
        next(it)
        victim = stream.pids[1]
        os.kill(victim, signal.SIGSTOP)
        try:
            start = time.monotonic()
            with pytest.raises(WorkerStalled, match=f"worker 1 \\(pid {victim}\\) has sent nothing"):
                for _ in it:
                    assert time.monotonic() - start < 30
            assert time.monotonic() - start < 10
        finally:
            os.kill(victim, signal.SIGCONT)


def test_a_slow_consumer_is_not_mistaken_for_a_stalled_worker():
    # stall_s is 15 heartbeats, so that a worker starved of CPU by tests running beside it (pytest-xdist) still
    # beats in time; only the consumer's absence, 4.8 s in all, exceeds it
    with SampleStream(streamgen.counter, workers=2, count=6, hwm=1, beat_s=0.2, stall_s=3.0) as stream:
        got = []
        for sample in stream:
            got.append(sample)
            time.sleep(0.8)
    assert len(got) == 6


def test_a_sample_over_the_size_cap_is_the_workers_error():
    with pytest.raises(WorkerError, match="exceeds the stream's cap of 1000 bytes"):
        with SampleStream(streamgen.huge, workers=1, count=2, max_message_bytes=1000) as stream:
            list(stream)
