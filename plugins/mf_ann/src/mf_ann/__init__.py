"""mf_ann: approximate nearest-neighbour search with the Product Quantization Tree (thesis chapter 2)."""

from .index import PQTIndex, load
from .lines import LineQuantizer
from .orderings import MultiOrderIndex
from .tree import TreeQuantizer
from .vecs import read_vecs, write_vecs

__all__ = ["PQTIndex", "MultiOrderIndex", "load", "LineQuantizer", "TreeQuantizer", "read_vecs", "write_vecs"]
