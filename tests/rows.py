"""For tests that move one per-synapse delay: how far each delay is from its row neighbours
(rows are kept sorted by delay, so a move must not cross one)."""
import numpy as np


def delay_gaps(delays, indptr):
    """(gap to the previous delay of the row, gap to the next one), inf at a row's ends."""
    row_end = np.repeat(indptr[1:], np.diff(indptr))
    row_start = np.repeat(indptr[:-1], np.diff(indptr))
    index = np.arange(delays.size)
    before = np.where(index > row_start, delays - np.roll(delays, 1), np.inf)
    after = np.where(index + 1 < row_end, np.roll(delays, -1) - delays, np.inf)
    return before, after
