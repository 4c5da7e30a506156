"""Crafted .pqt files: each is refused with one line before search can read outside the index's arrays."""

import json
import zipfile

import mf_ann
import numpy as np
import pytest
from test_index import data, small_index

from mfcore import InputError


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = small_index().save(tmp_path_factory.mktemp("index") / "i.pqt")
    with np.load(path) as members:
        return path, {name: members[name] for name in members.files}


def rewrite(path, arrays, meta_changes=None, drop=None):
    arrays = dict(arrays)
    if meta_changes is not None:
        meta = json.loads(arrays["meta"].tobytes())
        for key, value in meta_changes.items():
            if value is None:
                meta.pop(key)
            else:
                meta[key] = value
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    if drop:
        arrays.pop(drop)
    save(path, arrays)
    return path


def save(path, arrays):
    with open(path, "wb") as f:  # np.savez would add ".npz" to the name
        np.savez(f, **arrays)


def test_the_saved_file_loads_and_searches_like_the_original(saved, tmp_path):
    path, arrays = saved
    copy = rewrite(tmp_path / "same.pqt", arrays)
    queries = data(seed=3, n=8)
    np.testing.assert_array_equal(mf_ann.load(copy).search(queries, k=4)[1], mf_ann.load(path).search(queries, k=4)[1])


@pytest.mark.parametrize(("change", "message"), [
    (lambda a: {**a, "offsets": a["offsets"] + 10**9}, "offsets do not rise from 0"),
    (lambda a: {**a, "offsets": np.r_[a["offsets"][:-1], a["offsets"][-1] - 1]}, "offsets do not rise from 0"),
    (lambda a: {**a, "line_pair": np.full_like(a["line_pair"], 255)}, "line pair codes reach 255, but k1=4"),
    (lambda a: {**a, "bin_ids": a["bin_ids"][::-1].copy()}, "bin ids are not strictly increasing"),
    (lambda a: {**a, "bins": np.roll(a["bins"], 1)}, "vector bins do not match"),
    (lambda a: {**a, "level1": np.full_like(a["level1"], np.nan)}, "member level1 holds NaN"),
    (lambda a: {**a, "ids": a["ids"][:-1]}, r"member bins is \(600,\) of int64, expected \(599,\)"),
    (lambda a: {**a, "line_lam": a["line_lam"].astype(np.int64)}, "member line_lam is"),
    (lambda a: {**a, "extra": np.zeros(3)}, "unexpected: extra"),
    (lambda a: {k: v for k, v in a.items() if k != "offsets"}, "missing: offsets"),
])
def test_crafted_members_are_refused(saved, tmp_path, change, message):
    path = tmp_path / "crafted.pqt"
    save(path, change(saved[1]))
    with pytest.raises(InputError, match=message):
        mf_ann.load(path)


@pytest.mark.parametrize(("meta", "message"), [
    ({"k1": 1_000_000}, "k1=1000000 is outside"),
    ({"w": None}, "metadata field 'w' is None, expected int"),
    ({"w": 9}, "w=9 is outside"),
    ({"parts": 3}, "parts=3 is not a power of two"),
    ({"max_bins": 2}, r"bin ids are not strictly increasing within \[0, max_bins=2\)"),
    ({"keep_vectors": 1}, "'keep_vectors' is 1, expected bool"),
    ({"keep_vectors": False}, "unexpected: vectors"),
])
def test_crafted_metadata_is_refused(saved, tmp_path, meta, message):
    with pytest.raises(InputError, match=message):
        mf_ann.load(rewrite(tmp_path / "meta.pqt", saved[1], meta))


def test_a_member_declaring_more_than_it_holds_is_refused_before_allocation(saved, tmp_path):
    path = tmp_path / "huge.pqt"
    rewrite(path, saved[1], drop="vectors")
    header = {"descr": "<f4", "fortran_order": False, "shape": (10**10, 16)}
    with zipfile.ZipFile(path, "a") as archive:
        with archive.open("vectors.npy", "w") as member:
            np.lib.format.write_array_header_1_0(member, header)
            member.write(b"\0" * 64)
    with pytest.raises(InputError, match="declares shape .10000000000, 16. of float32, which does not match"):
        mf_ann.load(path)


def test_a_compressed_member_is_refused_without_inflating_it(saved, tmp_path):
    path = tmp_path / "bomb.pqt"
    rewrite(path, saved[1])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("padding.npy", b"\0" * (8 << 20))  # 8 MB that deflate to a few kB
    assert path.stat().st_size < 1 << 20
    with pytest.raises(InputError, match="member padding is compressed or larger than the file"):
        mf_ann.load(path)
