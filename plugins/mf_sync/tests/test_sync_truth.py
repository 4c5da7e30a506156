"""Ground truth of drives: ranges of correct frames (stops make them long) and alignment scores."""

import numpy as np
import pytest
from mf_sync.truth import Truth, alignment_errors, ground_truth_ranges


def truth(positions, route="r0"):
    return Truth(np.array([route] * len(positions)), np.asarray(positions, dtype=float))


def test_ranges_cover_stops_and_gaps():
    a = truth([0.0, 1.0, 2.0, 3.0, 10.0])
    b = truth([0.5, 1.0, 1.0, 1.0, 1.5, 2.5, 3.5])
    ranges = ground_truth_ranges(a, b)
    assert ranges[0] is None  # B starts after A's first position
    assert ranges[1] == (1, 3)  # B waits at 1.0 for three frames
    assert ranges[2] == (4, 5) or ranges[2] == (5, 5) or ranges[2] == (4, 4)
    assert ranges[4] is None  # B never gets to 10 m


def test_other_routes_never_match():
    a = truth([1.0, 2.0], route="r0")
    b = truth([1.0, 2.0], route="r1")
    assert ground_truth_ranges(a, b) == [None, None]


def test_alignment_errors_counts_tolerances_and_wrong_mappings():
    a = truth(np.arange(10.0))
    b = truth(np.arange(10.0) + 0.0)
    ranges = ground_truth_ranges(a, b)
    perfect = alignment_errors(ranges, np.arange(10), np.arange(10.0))
    assert perfect["within_1"] == 1.0 and perfect["precision_4"] == 1.0 and perfect["start_error"] == 0
    shifted = alignment_errors(ranges, np.arange(10), np.arange(10.0) + 3)
    assert shifted["within_1"] == 0.0 and shifted["within_4"] == 1.0
    partial = alignment_errors(ranges, np.arange(5, 10), np.arange(5, 10.0))
    assert partial["within_4"] == 0.5 and partial["start_error"] == 5


def test_no_overlap_is_an_error_not_a_score():
    from mfcore import InputError

    with pytest.raises(InputError, match="do not overlap"):
        alignment_errors(ground_truth_ranges(truth([1.0]), truth([5.0, 6.0])), np.arange(1), np.zeros(1))


def test_nearest_right_accepts_any_frame_of_a_stop_within_a_coarse_step():
    from mf_sync.bench import nearest_right

    ranges = [None] * 10 + [(f - 10, f - 8) for f in range(10, 40)] + [(25, 60)] * 10 + [None] * 10
    costs = np.ones((7, 8), np.float32)
    costs[1, 0] = costs[2, 3] = costs[3, 2] = costs[4, 6] = 0.0  # rows are A's frames 0, 10, 20, ...
    # Rows 0, 5 and 6 have no match; row 1 (range 0-2) -> B 0 right; row 2 (10-12) -> 30 wrong; row 3
    # (20-22) -> 20 right; row 4 (a stop of B, 25-60) -> 60 right.
    assert nearest_right(costs, ranges).tolist() == [True, False, True, True]


def test_mapped_right_and_the_confidence_auc():
    from mf_sync.bench import _confidence_auc
    from mf_sync.truth import mapped_right

    ranges = [None, (0, 0), (1, 3), (10, 10)]
    right = mapped_right(ranges, np.array([0, 1, 2, 3, 7]), np.array([0.0, 4.0, 7.4, 3.0, 1.0]))
    assert right.tolist() == [False, True, True, False, False]  # no truth, +4, +4 past a stop, -7, beyond A
    assert _confidence_auc([(np.array([0.9, 0.8, 0.1]), np.array([True, True, False]))]) == 1.0
    assert _confidence_auc([(np.array([0.1, 0.2]), np.array([True, False])),
                            (np.array([0.5]), np.zeros(1, bool))]) == 0.0  # a false tour pools as wrong
    assert _confidence_auc([(np.array([0.3, 0.3]), np.array([True, False]))]) == 0.5
    assert _confidence_auc([(np.array([0.3]), np.array([True]))]) == "-"  # one class: undefined
