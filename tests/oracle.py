"""An independent oracle for LIF networks: scipy's solve_ivp with threshold event location."""
import numpy as np
from scipy.integrate import solve_ivp


def lif_spikes(I, tau, v, pre, post, weight, count):
    """The first `count` spikes (indices, times) of LIF neurons tau dv/dt = I - v (I and tau
    numbers or one per neuron), threshold 1, reset 0, from voltages v at t = 0; a spike of
    neuron j adds weight[s] to v[post[s]] for every synapse s with pre[s] == j. An input that
    crosses threshold fires that neuron at once; several such fire in index order.
    Integrated by DOP853 with rtol = atol = 1e-12; shares nothing with sparseprop."""
    n = v.size
    v, spikes_i, spikes_t, t = v.copy(), [], [], 0.0
    events = []
    for j in range(n):
        event = (lambda s, y, j=j: y[j] - 1.0)
        event.terminal, event.direction = True, 1
        events.append(event)
    while len(spikes_t) < count:
        sol = solve_ivp(lambda s, y: (I - y) / tau, (t, t + 1000.0), v, events=events,
                        rtol=1e-12, atol=1e-12, method="DOP853")
        j = next(j for j in range(n) if sol.t_events[j].size)
        t, v = sol.t_events[j][0], sol.y_events[j][0].copy()
        ready = [j]
        while ready and len(spikes_t) < count:          # a spike and the crossings it causes
            j = ready.pop(0)
            spikes_i.append(j)
            spikes_t.append(t)
            for s in np.flatnonzero(pre == j):
                v[post[s]] += weight[s]
            v[j] = 0.0
            ready = sorted(set(ready) | {k for k in range(n) if v[k] >= 1.0})
    return np.array(spikes_i), np.array(spikes_t)
