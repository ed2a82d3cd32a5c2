"""A network's state: everything a run changes and a later run continues from (DESIGN.md 7).

The definition (model, parameters, synapses, sources, populations) lives in the Network; the
state here is plain arrays, so storing and restoring it are copies. Times are absolute (ms).
"""
from dataclasses import dataclass, replace

import numpy as np

from .queue import Entries


@dataclass
class State:
    """t: the current time. phase: every neuron's phase (time since reset; 0 for a subthreshold
    neuron, which has none). sub_state: the state variable of subthreshold neurons (NaN for the
    others), or None when every neuron fires on its own. t_free: the end of each neuron's
    refractory period (-inf: none under way). queue: the spikes in flight, in delivery order
    (sparseprop.engine.queue.Entries). emitted: spikes emitted so far (neurons and sources: the
    emission number of the next one). next_input, input_who, input_ptr, input_rng: each input
    stream's next event (time and whom it concerns), position in its spike list, and random
    generator state (sparseprop.engine.inputs)."""
    t: float
    phase: np.ndarray
    sub_state: object
    t_free: np.ndarray
    queue: Entries
    emitted: int
    next_input: np.ndarray
    input_who: np.ndarray
    input_ptr: np.ndarray
    input_rng: np.ndarray

    def copy(self):
        """An independent copy (numpy arrays copied; a read-only t_free of one value for all,
        `no_refractory`, is shared)."""
        return replace(self, phase=self.phase.copy(),
                       sub_state=None if self.sub_state is None else self.sub_state.copy(),
                       t_free=self.t_free if self.t_free.strides == (0,) else self.t_free.copy(),
                       queue=Entries(*(a.copy() for a in self.queue)),
                       next_input=self.next_input.copy(), input_who=self.input_who.copy(),
                       input_ptr=self.input_ptr.copy(),
                       input_rng=self.input_rng.copy())

    @property
    def in_flight(self):
        """Spikes whose deliveries are not all done."""
        return int(self.queue.time.size)


def no_refractory(n):
    """t_free of n neurons none of which is refractory: -inf for all, read-only, 0 bytes per
    neuron (a state's arrays are replaced, never written in place)."""
    return np.broadcast_to(np.float64(-np.inf), (n,))
