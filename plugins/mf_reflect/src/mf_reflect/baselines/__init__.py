"""Earlier polarisation methods the thesis compares with (table 5.1), re-implemented from their papers."""

from .farid import farid_separation
from .pane import pane_separation
from .schechner import schechner_separation

__all__ = ["farid_separation", "pane_separation", "schechner_separation"]
