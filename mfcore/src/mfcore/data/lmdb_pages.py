"""Check an LMDB file's page references with ordinary reads, before LMDB maps and follows them.

LMDB maps more address space than the file holds and trusts the sizes and page
numbers stored in its pages. A damaged data size or overflow page number makes
a read run past the end of the file into mapped pages with nothing behind them,
and the kernel kills the process with SIGBUS: no exception, no message. So a
dataset is walked here first, reading pages with ``pread`` from the B-tree's
root (LMDB 0.9's on-disk layout, 64-bit): every page number must lie inside the
file, every node inside its page, and every record's overflow pages inside the
file. Only the branch and leaf pages are read; for mf's records (images, larger
than half a page, so stored on overflow pages) that is a small part of the file.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from ..errors import DatasetError

_MAGIC = 0xBEEFC0DE
_PAGE_HEADER = 16
_P_BRANCH, _P_LEAF, _P_OVERFLOW, _P_LEAF2 = 0x01, 0x02, 0x04, 0x20
_F_BIGDATA, _F_SUBDATA, _F_DUPDATA = 0x01, 0x02, 0x04
_NODE_HEADER = 8
#: The meta record after the page header: magic, version, address, mapsize, the free and main
#: databases (pad, flags, depth, branch, leaf and overflow page counts, entries, root), last page, txnid.
_META = struct.Struct("<IIQQ" + "IHHQQQQQ" * 2 + "QQ")


class _Corrupt(Exception):
    pass


class _Foreign(_Corrupt):
    pass


def _read_page(fd: int, pgno: int, psize: int) -> bytes:
    page = os.pread(fd, psize, pgno * psize)
    if len(page) != psize:
        raise _Corrupt(f"page {pgno} lies past the end of the file")
    return page


def _meta_at(fd: int, offset: int) -> tuple[int, ...] | None:
    raw = os.pread(fd, _PAGE_HEADER + _META.size, offset)
    if len(raw) < _PAGE_HEADER + _META.size:
        return None
    fields = _META.unpack_from(raw, _PAGE_HEADER)
    return fields if fields[0] == _MAGIC else None


def _current_meta(fd: int) -> tuple[int, int, int, int]:
    """(page size, main root page, main tree depth, last page) of the newer of the two meta pages."""
    first = _meta_at(fd, 0)
    if first is None:
        raise _Foreign("no LMDB meta page")
    psize = first[4]  # LMDB keeps the page size in the free database's pad field
    if psize < 512 or psize > 1 << 16 or psize & (psize - 1):
        raise _Corrupt(f"implausible page size {psize}")
    second = _meta_at(fd, psize)
    meta = first if second is None or second[21] < first[21] else second  # LMDB reads the newer
    return psize, meta[19], meta[14], meta[20]


def check_pages(path: Path) -> None:
    """Walk the main B-tree of the LMDB file at ``path``; raise :class:`DatasetError` on a bad reference."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    try:
        _walk(fd, os.fstat(fd).st_size)
    except _Foreign as exc:
        raise DatasetError(f"{path}: not a readable LMDB file ({exc})") from exc
    except _Corrupt as exc:
        raise DatasetError(f"{path}: corrupt LMDB file ({exc})") from exc
    finally:
        os.close(fd)


def _walk(fd: int, size: int) -> None:
    psize, root, depth, last = _current_meta(fd)
    pages = size // psize
    if last >= pages:
        raise _Corrupt(f"truncated ({size} bytes, the LMDB index needs {(last + 1) * psize})")
    if root == (1 << 64) - 1:  # P_INVALID: an empty database
        return
    seen: set[int] = set()
    level = [root]
    for _ in range(depth):
        children: list[int] = []
        for pgno in level:
            if not 2 <= pgno <= last or pgno in seen:
                raise _Corrupt(f"a reference to page {pgno}, outside pages 2 to {last} or seen twice")
            seen.add(pgno)
            children += _nodes(_read_page(fd, pgno, psize), pgno, psize, last)
        level = children
    if level:
        raise _Corrupt(f"the tree is deeper than the {depth} levels its meta page records")


def _nodes(page: bytes, pgno: int, psize: int, last: int) -> list[int]:
    """Check one branch or leaf page; return a branch page's child page numbers."""
    _, _, flags, lower, upper = struct.unpack_from("<QHHHH", page)
    if flags & (_P_OVERFLOW | _P_LEAF2) or not flags & (_P_BRANCH | _P_LEAF):
        raise _Corrupt(f"page {pgno} has flags {flags:#x} where a branch or leaf page belongs")
    count = (lower - _PAGE_HEADER) // 2
    if lower < _PAGE_HEADER or upper > psize or lower > upper:
        raise _Corrupt(f"page {pgno} has free-space bounds {lower}..{upper} outside the page")
    children = []
    for offset in struct.unpack_from(f"<{count}H", page, _PAGE_HEADER):
        if not upper <= offset <= psize - _NODE_HEADER:
            raise _Corrupt(f"page {pgno} has a node at offset {offset}, outside its node area")
        lo, hi, node_flags, ksize = struct.unpack_from("<HHHH", page, offset)
        end = offset + _NODE_HEADER + ksize
        if flags & _P_BRANCH:
            if end > psize:
                raise _Corrupt(f"page {pgno} has a key running past the page")
            children.append(lo | hi << 16 | node_flags << 32)
            continue
        dsize = lo | hi << 16
        if node_flags & (_F_SUBDATA | _F_DUPDATA):
            raise _Corrupt(f"page {pgno} holds a sub-database or duplicates, which mf datasets never have")
        if node_flags & _F_BIGDATA:
            if end + 8 > psize:
                raise _Corrupt(f"page {pgno} has a node running past the page")
            (first,) = struct.unpack_from("<Q", page, end)
            needed = -(-(_PAGE_HEADER + dsize) // psize)
            if first < 2 or first + needed - 1 > last:
                raise _Corrupt(f"a record of {dsize} bytes on pages {first}..{first + needed - 1} runs past the "
                               f"last page {last}")
        elif end + dsize > psize:
            raise _Corrupt(f"page {pgno} has a record running past the page")
    return children
