"""Independent oracles for LIF networks: scipy's solve_ivp with threshold event location
(`lif_spikes`), and a plain closed-form event loop with delays and input spikes (`lif_events`).
Neither shares anything with sparseprop."""
import heapq
import math

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


def lif_events(I, tau, v, pre, post, weight, delay, count, refractory=0.0, sources=None,
               duration=math.inf):
    """The first `count` spikes (senders, times), or all up to `duration` ms, of LIF neurons
    tau dv/dt = I - v (I, tau and refractory numbers or one per neuron; I < 1: the neuron fires
    only when pushed), threshold 1, reset 0, from voltages v < 1 at t = 0, with synaptic delays
    and input spike trains. Senders 0..n-1 are the neurons, n..n+m-1 the sources; `sources` is
    None or (sender_ids, times) of the source spikes, in any order. Synapse s (in the order given)
    carries a spike of pre[s] (neuron or source) to neuron post[s]: weight[s] is added to its v
    at t + delay[s]. The output, in emission order, holds source spikes too.

    Rules. Between events v(t + s) = I + (v - I) exp(-s/tau); a neuron reaches threshold
    tau ln((I - v)/(I - 1)) after its last change (never if I <= 1). An input arriving at a is
    lost if a < the end of the neuron's refractory period (at exactly the end it counts) or if
    the neuron is due (at threshold at a and not yet fired); else it is added and, if v >= 1,
    the neuron is due at a. A spike records (sender, t), applies its zero-delay synapses at once
    in synapse order, queues the others; a neuron then resets to 0 and holds 0 for `refractory`.
    At one instant: queued deliveries first, by (emission number of the sending spike, synapse
    index); then source spikes, by sender id; then due neurons, smallest index first (re-chosen
    after every spike; an input of a positive delay that rounds to t + delay == t is queued and
    so taken at this instant before further spikes). Stops after `count` spikes (count=None:
    no limit) or when the next event is later than `duration`.
    O(n + synapses) per event, float64 closed forms only; shares nothing with sparseprop."""
    v0 = np.asarray(v, dtype=np.float64)
    n = v0.size
    if np.any(v0 >= 1.0):
        raise ValueError("initial voltages must be below the threshold 1")
    I = [float(x) for x in np.broadcast_to(np.asarray(I, dtype=np.float64), (n,))]
    tau = [float(x) for x in np.broadcast_to(np.asarray(tau, dtype=np.float64), (n,))]
    refractory = [float(x) for x in
                  np.broadcast_to(np.asarray(refractory, dtype=np.float64), (n,))]
    pre, post = np.asarray(pre, dtype=np.int64), np.asarray(post, dtype=np.int64)
    weight, delay = np.asarray(weight, dtype=np.float64), np.asarray(delay, dtype=np.float64)
    if not pre.shape == post.shape == weight.shape == delay.shape == (pre.size,):
        raise ValueError("pre, post, weight and delay must be 1-D arrays of one length")
    if np.any(post < 0) or np.any(post >= n) or np.any(pre < 0) or np.any(delay < 0):
        raise ValueError("post must name neurons, pre senders, delays must be >= 0")
    count = math.inf if count is None else count

    # the source spikes, sorted by (time, sender id)
    if sources is None:
        source_spikes = []
    else:
        ids, ts = sources
        ids = [int(k) for k in np.asarray(ids).ravel()]
        ts = [float(x) for x in np.asarray(ts, dtype=np.float64).ravel()]
        if len(ids) != len(ts) or any(k < n for k in ids) or any(x < 0 for x in ts):
            raise ValueError("sources: sender ids >= n, times >= 0, one time per id")
        source_spikes = sorted(zip(ts, ids))
    next_source = 0

    # synapses of each sender, in synapse order
    out = {}
    for s in range(pre.size):
        out.setdefault(int(pre[s]), []).append(s)

    # neuron state: v[i] is the voltage at time base[i] (the last change, or the end of the
    # refractory period); fire[i] is when it reaches threshold (closed form from that state)
    # or the instant an input pushed it over; free[i] is the end of its refractory period.
    vb = [float(x) for x in v0]
    base = [0.0] * n
    free = [-math.inf] * n
    fire = [math.inf] * n

    def threshold_time(i):
        if I[i] <= 1.0:
            return math.inf
        return base[i] + tau[i] * math.log((I[i] - vb[i]) / (I[i] - 1.0))

    for i in range(n):
        fire[i] = threshold_time(i)

    queue = []                    # (arrival, emission number, synapse index)
    senders, times = [], []

    def arrive(s, a):
        """Input of synapse s reaches its target at time a."""
        i = int(post[s])
        if a < free[i] or fire[i] <= a:       # refractory, or due (at threshold, not fired)
            return
        v_a = I[i] + (vb[i] - I[i]) * math.exp(-(a - base[i]) / tau[i])
        vb[i], base[i] = v_a + float(weight[s]), a
        fire[i] = a if vb[i] >= 1.0 else threshold_time(i)

    def emit(j, t):
        """Spike of sender j at t: record it, apply zero-delay synapses, queue the others."""
        number = len(times)
        senders.append(j)
        times.append(t)
        for s in out.get(j, ()):
            if delay[s] == 0.0:
                arrive(s, t)
            else:
                heapq.heappush(queue, (t + float(delay[s]), number, s))

    while len(times) < count:
        t_delivery = queue[0][0] if queue else math.inf
        t_source = source_spikes[next_source][0] if next_source < len(source_spikes) \
            else math.inf
        t_neuron = min(fire, default=math.inf)
        t = min(t_delivery, t_source, t_neuron)
        if t == math.inf or t > duration:
            break
        if t_delivery == t:
            _, _, s = heapq.heappop(queue)    # smallest (emission number, synapse index)
            arrive(s, t)
        elif t_source == t:
            _, k = source_spikes[next_source]
            next_source += 1
            emit(k, t)
        else:
            j = fire.index(t)                 # the smallest-index due neuron
            emit(j, t)
            vb[j], base[j], free[j] = 0.0, t + refractory[j], t + refractory[j]
            fire[j] = threshold_time(j)
    return np.array(senders, dtype=np.int64), np.array(times, dtype=np.float64)
