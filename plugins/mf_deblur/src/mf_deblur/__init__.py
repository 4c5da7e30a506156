"""mf_deblur: burst and video deblurring for mf (thesis chapter 6).

The library API, importable without Keras (the network's module imports it on use):
``fba`` (Fourier Burst Accumulation), ``deblur`` (the Recurrent Deblur Network on a
sequence, target first), ``sharpest_first`` (a burst in the order ``mf run deblur``
gives the network), ``load_rdn`` (the shipped or your own weights), and the
synthesisers ``gp_kernel``, ``synthesize_burst`` and ``blur_from_video``.
"""

from .baselines.fba import fba
from .inference import deblur
from .model_io import load_rdn
from .order import sharpest_first
from .synthesis.burst import synthesize_burst
from .synthesis.kernels import gp_kernel
from .synthesis.motion_blur import blur_from_video

__all__ = ["blur_from_video", "deblur", "fba", "gp_kernel", "load_rdn", "sharpest_first", "synthesize_burst"]
