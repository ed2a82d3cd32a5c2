"""An independent oracle for LIF networks: scipy's solve_ivp with threshold event location."""
import numpy as np
from scipy.integrate import solve_ivp


def lif_spikes(I, tau, v, pre, post, weight, count, refractory=0.0):
    """The first `count` spikes (indices, times) of LIF neurons tau dv/dt = I - v (I, tau and
    refractory numbers or one per neuron; I < 1: the neuron fires only when pushed), threshold
    1, reset 0, from voltages v at t = 0; a spike of neuron j adds weight[s] to v[post[s]] for
    every synapse s with pre[s] == j. An input that crosses threshold fires that neuron at once;
    several such fire in index order. For `refractory` ms after its spike a neuron stays at 0
    and ignores its inputs (an input at exactly the end counts).
    Integrated by DOP853 with rtol = atol = 1e-12; shares nothing with sparseprop."""
    n = v.size
    I, tau = np.broadcast_to(I, (n,)), np.broadcast_to(tau, (n,))
    refractory = np.broadcast_to(refractory, (n,))
    v, spikes_i, spikes_t, t = v.copy(), [], [], 0.0
    free = np.full(n, -np.inf)            # end of each neuron's refractory period
    events = []
    for j in range(n):
        event = (lambda s, y, j=j: y[j] - 1.0)
        event.terminal, event.direction = True, 1
        events.append(event)
    while len(spikes_t) < count:
        held = free > t                   # refractory: v stays at 0 until `free`
        ends = free[held]
        stop = min(ends.min(), t + 1000.0) if ends.size else t + 1000.0
        sol = solve_ivp(lambda s, y: np.where(held, 0.0, (I - y) / tau), (t, stop), v,
                        events=events, rtol=1e-12, atol=1e-12, method="DOP853")
        fired = [j for j in range(n) if sol.t_events[j].size]
        if not fired:                     # a refractory period ended first: go on from there
            t, v = stop, sol.y[:, -1].copy()
            continue
        j = min(fired, key=lambda j: sol.t_events[j][0])
        t, v = sol.t_events[j][0], sol.y_events[j][0].copy()
        ready = [j]
        while ready and len(spikes_t) < count:          # a spike and the crossings it causes
            j = ready.pop(0)
            spikes_i.append(j)
            spikes_t.append(t)
            for s in np.flatnonzero(pre == j):
                if t >= free[post[s]]:
                    v[post[s]] += weight[s]
            v[j], free[j] = 0.0, t + refractory[j]
            ready = sorted(set(ready) | {k for k in range(n) if v[k] >= 1.0})
    return np.array(spikes_i), np.array(spikes_t)
