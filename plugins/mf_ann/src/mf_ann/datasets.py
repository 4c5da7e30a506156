"""Real vector sets built from photographs that ship inside installed packages.

``sift``: OpenCV SIFT descriptors of scikit-image's and scikit-learn's bundled
photographs, each photograph seen at several scales and rotations (the
variations a descriptor index meets in practice), de-duplicated. Query
descriptors come from *other* photographs than the base, as in SIFT1M.

``gist``: 960-d GIST-like global descriptors (Gabor energy, 3 colour channels ×
20 filters × 4×4 grid, the layout of GIST1M) of random crops of the same
photographs, queries again from held-out photographs.

Exact ground truth is computed by blocked brute force.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mfcore import InputError

#: Photographs bundled with scikit-image (no download) and scikit-learn (``load_sample_image``).
BASE_PHOTOS = ("astronaut", "brick", "camera", "cat", "chelsea", "coins", "grass", "hubble_deep_field",
               "immunohistochemistry", "moon", "page", "retina", "rocket", "text", "sklearn:china.jpg")
QUERY_PHOTOS = ("coffee", "gravel", "clock", "sklearn:flower.jpg")
SCALES = (0.5, 0.7, 1.0, 1.4, 2.0)
ANGLES = tuple(range(0, 360, 30))


@functools.cache
def set_files(data: Path, name: str) -> tuple[Path, Path, Path]:
    """The base, query and ground-truth files ``mf ann dataset NAME -o DATA`` writes; one clear error when one is
    missing (the benchmarks read them)."""
    files = tuple(data / f"{name}_{part}" for part in ("base.fvecs", "query.fvecs", "groundtruth.ivecs"))
    for path in files:
        if not path.is_file():
            raise InputError(f"{path} is missing: create the set with `mf ann dataset {name} -o {data}`")
    return files  # type: ignore[return-value]


def photograph(name: str) -> np.ndarray:
    """A bundled photograph as uint8 RGB (grey photographs are replicated to three channels)."""
    if name.startswith("sklearn:"):
        from sklearn.datasets import load_sample_image

        image = load_sample_image(name.split(":", 1)[1])
    else:
        from skimage import data

        image = getattr(data, name)()
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8) if image.max() <= 1 else image.astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


def _variant(image: np.ndarray, scale: float, angle: float) -> np.ndarray:
    h, w = image.shape[:2]
    resized = cv2.resize(image, (max(16, round(w * scale)), max(16, round(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    if angle:
        hh, ww = resized.shape[:2]
        matrix = cv2.getRotationMatrix2D((ww / 2, hh / 2), angle, 1.0)
        resized = cv2.warpAffine(resized, matrix, (ww, hh), borderMode=cv2.BORDER_REFLECT)
    return resized


def _sift_of(job: tuple[str, float, float]) -> np.ndarray:
    name, scale, angle = job
    gray = cv2.cvtColor(_variant(photograph(name), scale, angle), cv2.COLOR_RGB2GRAY)
    _, descriptors = cv2.SIFT_create().detectAndCompute(gray, None)
    return np.zeros((0, 128), np.float32) if descriptors is None else descriptors.astype(np.float32)


def unique_rows(x: np.ndarray) -> np.ndarray:
    """Rows of x without exact duplicates, in first-seen order."""
    view = np.ascontiguousarray(x).view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()
    _, first = np.unique(view, return_index=True)
    return x[np.sort(first)]


@dataclass
class VectorSet:
    name: str
    base: np.ndarray
    queries: np.ndarray


def _collect(jobs: list, fn: Callable, workers: int, progress: Callable[[int, int], None] | None) -> Iterator:
    """Results of ``fn`` over ``jobs`` in order, computed by a process pool; stops early if closed."""
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, result in enumerate(pool.map(fn, jobs, chunksize=2), start=1):
            if progress:
                progress(done, len(jobs))
            yield result


def _draw(vectors: np.ndarray, count: int, rng: np.random.Generator, what: str) -> np.ndarray:
    if len(vectors) < count:
        raise InputError(f"only {len(vectors)} distinct {what} descriptors are available, {count} requested")
    return vectors[np.sort(rng.choice(len(vectors), size=count, replace=False))]


def sift(n_base: int, n_queries: int, seed: int = 0, workers: int = 2,
         progress: Callable[[int, int], None] | None = None) -> VectorSet:
    """SIFT descriptors: base from BASE_PHOTOS, queries from QUERY_PHOTOS, de-duplicated."""
    rng = np.random.default_rng(seed)
    sets = []
    for photos, count in ((BASE_PHOTOS, n_base), (QUERY_PHOTOS, n_queries)):
        jobs = [(name, scale, angle) for name in photos for scale in SCALES for angle in ANGLES]
        jobs = [jobs[i] for i in rng.permutation(len(jobs))]  # stop early without favouring a photo
        found: list[np.ndarray] = []
        unique = np.zeros((0, 128), np.float32)
        for n, descriptors in enumerate(_collect(jobs, _sift_of, workers, progress), start=1):
            found.append(descriptors)
            if n % 16 == 0 or n == len(jobs):
                unique = unique_rows(np.concatenate(found))
                found = [unique]
                if len(unique) >= 2 * count:  # enough to draw from without bias towards early jobs
                    break
        sets.append(_draw(unique, count, rng, "query" if photos is QUERY_PHOTOS else "base"))
    return VectorSet("sift", sets[0], sets[1])


def _gabor_bank() -> list[np.ndarray]:
    """20 Gabor filters: 8 orientations at two fine scales, 4 at a coarse one (GIST's layout)."""
    bank = []
    for size, lambd, orientations in ((9, 4.0, 8), (17, 8.0, 8), (33, 16.0, 4)):
        for k in range(orientations):
            kernel = cv2.getGaborKernel((size, size), lambd / 2, np.pi * k / orientations, lambd, 0.5, 0)
            bank.append((kernel - kernel.mean()).astype(np.float32))
    return bank


def _gist_of(job: tuple[str, int, int]) -> np.ndarray:
    name, count, seed = job
    rng = np.random.default_rng(seed)
    image = photograph(name).astype(np.float32) / 255.0
    bank = _gabor_bank()
    h, w = image.shape[:2]
    out = np.empty((count, 960), np.float32)
    for n in range(count):
        size = int(rng.integers(64, min(h, w) + 1))
        y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
        crop = cv2.resize(image[y : y + size, x : x + size], (128, 128), interpolation=cv2.INTER_AREA)
        features = []
        for channel in range(3):
            for kernel in bank:
                energy = np.abs(cv2.filter2D(crop[:, :, channel], -1, kernel, borderType=cv2.BORDER_REFLECT))
                features.append(energy.reshape(4, 32, 4, 32).mean(axis=(1, 3)).ravel())
        out[n] = np.concatenate(features)
    return out


def gist(n_base: int, n_queries: int, seed: int = 0, workers: int = 2,
         progress: Callable[[int, int], None] | None = None) -> VectorSet:
    """960-d GIST-like descriptors of random crops; queries from held-out photographs."""
    per_job = 200
    sets = []
    for photos, count, salt in ((BASE_PHOTOS, n_base, 0), (QUERY_PHOTOS, n_queries, 1)):
        jobs_needed = -(-count // per_job)
        jobs = [(photos[n % len(photos)], per_job, seed * 1_000_003 + salt * 100_003 + n) for n in range(jobs_needed)]
        sets.append(np.concatenate(list(_collect(jobs, _gist_of, workers, progress)))[:count])
    return VectorSet("gist", sets[0], sets[1])


GENERATORS = {"sift": sift, "gist": gist}


def _smallest(d: np.ndarray, count: int) -> np.ndarray:
    """Column indices of the ``count`` smallest values per row; among ties, the leftmost.

    argpartition is fast but arbitrary among equal values; rows where a tie straddles the
    cut are redone with a stable sort so ties always resolve to the lower index.
    """
    count = min(count, d.shape[1])
    part = np.argpartition(d, count - 1, axis=1)[:, :count]
    cut = np.take_along_axis(d, part, axis=1).max(axis=1, keepdims=True)
    straddling = np.flatnonzero((d <= cut).sum(axis=1) > count)
    if len(straddling):
        part[straddling] = np.argsort(d[straddling], axis=1, kind="stable")[:, :count]
    return part


def ground_truth(base: np.ndarray, queries: np.ndarray, k: int, query_block: int = 512,
                 base_block: int = 1 << 16) -> np.ndarray:
    """Exact k nearest neighbours (squared L2, ties by id) by blocked brute force: (nq, k) int32.

    Blocks are screened in float32 keeping k + 16 candidates per query, which are then
    re-scored in float64; memory stays at query_block x base_block floats.
    """
    if k > len(base):
        raise InputError(f"k={k} is larger than the base ({len(base)} vectors)")
    margin = min(len(base), k + 16)
    out = np.empty((len(queries), k), np.int32)
    base_sq = np.concatenate([(np.asarray(base[s : s + base_block], np.float32) ** 2).sum(1)
                              for s in range(0, len(base), base_block)])
    for qs in range(0, len(queries), query_block):
        q = np.asarray(queries[qs : qs + query_block], np.float32)
        best_d = np.full((len(q), 0), np.inf, np.float32)
        best_i = np.zeros((len(q), 0), np.int64)
        for bs in range(0, len(base), base_block):
            b = np.asarray(base[bs : bs + base_block], np.float32)
            d = base_sq[None, bs : bs + len(b)] - 2.0 * (q @ b.T)  # |q|² is the same for every row
            part = _smallest(d, margin)
            best_d = np.concatenate([best_d, np.take_along_axis(d, part, axis=1)], axis=1)
            best_i = np.concatenate([best_i, part + bs], axis=1)
            keep = _smallest(best_d, margin)  # earlier blocks come first: ties keep the lower ids
            best_d = np.take_along_axis(best_d, keep, axis=1)
            best_i = np.take_along_axis(best_i, keep, axis=1)
        unique, rows = np.unique(best_i, return_inverse=True)  # one read of each candidate row
        candidates = np.asarray(base[unique], np.float64)
        exact = ((candidates[rows.reshape(best_i.shape)] - q[:, None, :].astype(np.float64)) ** 2).sum(-1)
        order = np.lexsort((best_i, exact), axis=1)[:, :k]
        out[qs : qs + len(q)] = np.take_along_axis(best_i, order, axis=1)
    return out
