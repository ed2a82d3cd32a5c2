"""SplitMix64 (Steele et al. 2014), the engine's one random-number function: the Poisson input
streams advance a state by GOLDEN per number (sparseprop.engine.inputs); procedural tables
draw synapse s's target from key + (s + 1) GOLDEN (sparseprop.engine.synapses)."""
import numba
import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)   # the state's step
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


@numba.njit(cache=True, nogil=True, inline="always", _nrt=False)
def finalise(z):
    """SplitMix64's output for state z (uint64): 64 random bits."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)
