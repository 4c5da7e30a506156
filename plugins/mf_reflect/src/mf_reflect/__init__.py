"""mf-reflect's library API: polarisation captures in, reflection and transmission out (no Keras on import).

>>> images, angles = read_captures([Path("raw.png")], mosaic=True)   # demosaiced, checked, linear
>>> reflection, transmission = separate_with(Method.schechner, images, angles)
"""

from .canonical import canonical_projection, render_at
from .captures import read_captures
from .exposure import exposure_scale
from .methods import Method, separate_with
from .mosaic import check_pattern, demosaic
from .orientation import orient, reflection_direction
from .synthesis import reflection_sample

__all__ = [
    "Method",
    "canonical_projection",
    "check_pattern",
    "demosaic",
    "exposure_scale",
    "orient",
    "read_captures",
    "reflection_direction",
    "reflection_sample",
    "render_at",
    "separate_with",
]
