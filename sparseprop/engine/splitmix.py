"""SplitMix64 (Steele et al. 2014), the project's one random-number function: the Poisson input
streams advance a state by GOLDEN per number (sparseprop.engine.inputs); procedural tables
draw synapse s's target from key + (s + 1) GOLDEN (sparseprop.engine.synapses); the stored
recipes (sparseprop.connectivity) draw row i's numbers from its own segment of the stream,
states key + (i 2^32 + c) GOLDEN, c = 1, 2, ... (`row_state`, `below`, `uniform`), so that
any row can be drawn alone, in any order."""
import numba
import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)   # the state's step
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S11, _S32, _LOW32, _TWO32 = np.uint64(11), np.uint64(32), np.uint64(0xFFFFFFFF), np.uint64(1 << 32)


@numba.njit(cache=True, nogil=True, inline="always", _nrt=False)
def finalise(z):
    """SplitMix64's output for state z (uint64): 64 random bits."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, nogil=True, inline="always", _nrt=False)
def row_state(key, row):
    """The state before row `row`'s first number (a uint64; key: int64 bits of a uint64): row
    i owns the 2^32 numbers after key + i 2^32 GOLDEN, so rows never share one."""
    return np.uint64(key) + (np.uint64(row) << _S32) * GOLDEN


@numba.njit(cache=True, nogil=True, inline="always", _nrt=False)
def below(z, m):
    """(u, z'): u uniform in 0..m-1 exactly, for 1 <= m <= 2^32 (Lemire's multiply of 32
    random bits by m, rejecting the low products that would bias it), from the numbers after
    state z; z' the state after the last number used."""
    m = np.uint64(m)
    z = z + GOLDEN
    product = (finalise(z) >> _S32) * m
    if (product & _LOW32) < m:
        floor = (_TWO32 - m) % m
        while (product & _LOW32) < floor:
            z = z + GOLDEN
            product = (finalise(z) >> _S32) * m
    return np.int64(product >> _S32), z


@numba.njit(cache=True, nogil=True, inline="always", _nrt=False)
def uniform(z):
    """(u, z'): u uniform in [0, 1) (53 random bits) from the number after state z."""
    z = z + GOLDEN
    return np.float64(finalise(z) >> _S11) * (1.0 / 9007199254740992.0), z
