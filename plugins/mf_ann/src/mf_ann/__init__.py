"""mf_ann: approximate nearest-neighbour search with the Product Quantization Tree (thesis chapter 2)."""

from .lines import LineQuantizer
from .tree import TreeQuantizer
from .vecs import read_vecs, write_vecs

__all__ = ["LineQuantizer", "TreeQuantizer", "read_vecs", "write_vecs"]
