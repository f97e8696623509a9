"""The history's snapshots: bounded in count, evenly spread, in iteration order."""

from __future__ import annotations

import numpy as np
import pytest

from napari_dip.gui.snapshots import HISTORY_LIMIT, Snapshots, snapshot_every


def test_snapshot_interval_bounds_the_count():
    for total, preview_every in [(20, 5), (1800, 10), (100_000, 7), (61, 1)]:
        every = snapshot_every(total, preview_every)
        assert every % preview_every == 0
        assert total // every <= HISTORY_LIMIT


def test_snapshots_stay_bounded_and_ordered():
    snapshots = Snapshots(limit=10)
    for iteration in range(1, 101):
        snapshots.add(iteration, (np.full((2, 2), iteration, dtype=np.uint8),))
    assert len(snapshots) <= 10 and snapshots.iterations[-1] == 100
    assert snapshots.iterations == sorted(snapshots.iterations)
    assert [int(frame[0][0, 0]) for frame in snapshots.frames] == snapshots.iterations
    snapshots.add(55, (np.zeros((2, 2), dtype=np.uint8),), pin=True)  # the auto-stop's choice, in order
    snapshots.add(101, (np.zeros((2, 2), dtype=np.uint8),))  # and never thinned away
    assert 55 in snapshots.iterations and snapshots.iterations == sorted(snapshots.iterations)
    assert len(snapshots) == 10
    assert snapshots.iterations[snapshots.nearest(56)] == 55
    assert snapshots.nbytes == 4 * len(snapshots)
    with pytest.raises(ValueError, match="at least 2"):
        Snapshots(limit=1)


def test_thinning_keeps_the_snapshots_evenly_spread():
    snapshots = Snapshots(limit=10)
    for iteration in range(1, 101):
        snapshots.add(iteration, (np.zeros(1),))
    gaps = np.diff(snapshots.iterations)
    assert snapshots.iterations[0] == 1 and gaps.max() <= 2 * gaps.min() + 1, snapshots.iterations


# Stopped by the rule at 30, or run to the last of 40 iterations before the patience ran out: either way the stop's
# choice (iteration 20) is returned, marked on the plot and kept in the history.
