"""mf_deblur: burst and video deblurring for mf."""

from .fba import fba

__all__ = ["fba"]
