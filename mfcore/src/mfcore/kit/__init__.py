"""mf's toolkit: what several plugins need beside the kernel, imported from ``mfcore.kit``.

* image and video files with one-line errors and a pixel budget (``images``, ``video``);
* metrics (PSNR, SSIM), a phase's peak memory, tiling with blended overlaps, photos bundled with
  scikit-image and the training/held-out photo pools (``metrics``, ``memory``, ``tiling``, ``sample_images``,
  ``photo_pool``);
* Keras models: the backend choice, weights with cards, batch norm (``keras_models``, ``batch_norm``);
* the training loop's pieces: presets, run folders, sources, ``fit`` (``training``);
* progress, HTML reports and benchmark tables (``progress``, ``report``, ``bench_report``); the executors and
  worker counts a scaling benchmark measures (``bench_executors``).
"""

from __future__ import annotations

from . import batch_norm
from .batch_norm import batch_norm_layers
from .bench_executors import (
    BenchExecutorsOption,
    BenchWorkersOption,
    add_speedups,
    bench_executors,
    positive_ints,
)
from .bench_report import environment, markdown_table, parse_named_paths, write_markdown
from .images import IMAGE_SUFFIXES, collect_frames, files_in, read_burst, read_image, write_image
from .keras_models import (
    card_width,
    import_tensorflow_quietly,
    inference_mode,
    keras_backend_for,
    load_model,
    load_network,
    load_weights,
    network_available,
    read_card,
)
from .memory import PeakRss, peak_rss
from .metrics import psnr, ssim
from .photo_pool import (
    HELD_OUT_PHOTOS,
    MIN_GRADIENT,
    TRAIN_PHOTOS,
    augment,
    image_pool,
    mean_gradient,
    textured_patch,
)
from .progress import PhaseProgress, step_progress, tracked
from .report import figure, table
from .sample_images import crop, photo
from .tiling import pad_to_multiple, tiled
from .training import (
    CheckpointEveryOption,
    LrOption,
    Preset,
    ResumeOption,
    Run,
    Sources,
    StepsOption,
    StopAfterOption,
    ValidateEveryOption,
    WidthOption,
    WorkersOption,
    fit,
    save_inference_weights,
)
from .video import VIDEO_SUFFIXES, iter_video, read_video, video_info, write_video

__all__ = [
    "BenchExecutorsOption",
    "BenchWorkersOption",
    "add_speedups",
    "bench_executors",
    "positive_ints",
    "HELD_OUT_PHOTOS",
    "IMAGE_SUFFIXES",
    "PeakRss",
    "MIN_GRADIENT",
    "TRAIN_PHOTOS",
    "VIDEO_SUFFIXES",
    "CheckpointEveryOption",
    "LrOption",
    "PhaseProgress",
    "Preset",
    "ResumeOption",
    "Run",
    "Sources",
    "StepsOption",
    "StopAfterOption",
    "ValidateEveryOption",
    "WidthOption",
    "WorkersOption",
    "augment",
    "batch_norm",
    "batch_norm_layers",
    "card_width",
    "collect_frames",
    "crop",
    "environment",
    "figure",
    "files_in",
    "fit",
    "image_pool",
    "import_tensorflow_quietly",
    "inference_mode",
    "iter_video",
    "keras_backend_for",
    "load_model",
    "load_network",
    "load_weights",
    "markdown_table",
    "mean_gradient",
    "network_available",
    "pad_to_multiple",
    "peak_rss",
    "parse_named_paths",
    "photo",
    "psnr",
    "read_burst",
    "read_card",
    "read_image",
    "read_video",
    "save_inference_weights",
    "ssim",
    "step_progress",
    "table",
    "textured_patch",
    "tiled",
    "tracked",
    "video_info",
    "write_image",
    "write_markdown",
    "write_video",
]
