"""Independent oracle for networks of neurons with several state variables and linear dynamics
x' = A x + b: scipy's solve_ivp (DOP853, rtol = atol = 1e-12) integrates all neurons jointly
between discrete events and locates threshold crossings as terminal events (`linear_spikes`).
Closed forms for the self-tests: `lif_exp_voltage`. Shares nothing with sparseprop (numpy,
scipy, heapq and math only)."""
import heapq
import math

import numpy as np
from scipy.integrate import solve_ivp


def lif_exp_voltage(t, v0, I0, Ie, tau_m, tau_s):
    """v(t) of dv/dt = (Ie + I - v)/tau_m, dI/dt = -I/tau_s from v(0) = v0, I(0) = I0
    (tau_m != tau_s): Ie + (v0 - Ie) e^{-t/tau_m} + I0 tau_s/(tau_s - tau_m)
    (e^{-t/tau_s} - e^{-t/tau_m}). I(t) = I0 e^{-t/tau_s}."""
    t = np.asarray(t, dtype=np.float64)
    return (Ie + (v0 - Ie) * np.exp(-t / tau_m)
            + I0 * tau_s / (tau_s - tau_m) * (np.exp(-t / tau_s) - np.exp(-t / tau_m)))


def _per_neuron(value, n, shape, name):
    a = np.asarray(value, dtype=np.float64)
    if a.shape == shape:
        return np.broadcast_to(a, (n,) + shape).copy()
    if a.shape == (n,) + shape:
        return a.copy()
    raise ValueError(f"{name} must have shape {shape} or {(n,) + shape}, not {a.shape}")


def linear_spikes(A, b, c, theta, reset, x0, pre, post, weight, delay, port, port_var, count,
                  refractory=0.0, sources=None, t_max=math.inf, due_inputs="lost",
                  return_state=False, idle=1e4):
    """The first `count` neuron spikes (indices, times), or all up to `t_max` (count=None), of a
    network of n neurons with state x_i in R^d following x' = A_i x + b_i between events.

    A: (d, d) or (n, d, d); b: (d,) or (n, d); c: (d,) threshold weights; theta: number or (n,).
    Neuron i is at threshold when g_i(x) = c . x - theta_i >= 0 (tested only when not refractory).
    reset: list of (k, "set" | "add", value) applied in order at a spike; the variables that
        some op SETS are the clamped ones.
    x0: (n, d) states at t = 0 (no neuron refractory; a neuron with g >= 0 fires at t = 0).
    pre, post, weight, delay, port: one entry per synapse; senders 0..n-1 are the neurons,
        n, n+1, ... the sources. A spike of pre[s] at t adds weight[s] to
        x[post[s]][port_var[port[s]]] at t + delay[s] (delay >= 0).
    refractory: number or (n,), ms. For refractory[i] ms after its spike (t in
        [t_spike, t_spike + r)) the clamped variables of neuron i are held (derivative 0, inputs
        to them lost), the others evolve (and take inputs); no threshold test. At
        t_spike + r exactly it is free again: it fires at once if g >= 0, inputs count.
    sources: None or (source_numbers, times): source spike k has sender n + source_numbers[k].
    t_max: stop after the instant t_max (spikes at t_max are returned).
    due_inputs: what an input does to a neuron that is due to fire at that instant (it reached
        threshold by its flow, or an earlier input at that instant pushed it over): "lost"
        (default; sparseprop's rule for 1-D models, as tests/oracle.lif_events) or "apply"
        (the input is added; the neuron still fires at that instant).
    return_state: also return the (n, d) states at the end: at t_max (after that instant's
        events) or, when stopped by `count`, right after the count-th spike (its zero-delay
        inputs and its reset applied).
    idle: with nothing queued and no t_max, stop after `idle` ms without a spike.

    Rules at one instant t (as sparseprop's README): queued deliveries first, by (emission
    number of the spike, synapse index); then source spikes by (time, source number); then due
    neurons, smallest index first, re-chosen after every spike. A neuron is due at t if it is
    free and g >= 0 at the start of the instant (a located crossing, a refractory end), or an
    input at t pushes it to g >= 0. A spike (of a neuron or a source) records (i, t), applies
    its zero-delay synapses at once in synapse order and queues the others (as lif_events and
    sparseprop's loops); a neuron's spike then applies its reset and starts its refractory
    period. While its zero-delay inputs are applied the spiking neuron is still due, so an
    input to itself is lost (due_inputs="lost") or applied before the reset ("apply"). A
    neuron with refractory 0 and g >= 0 after its reset is due again. A positive delay that
    rounds to t + delay == t is queued, so taken at this instant before further spikes. More
    than n neuron spikes at one instant raises RuntimeError.

    Between instants, all neurons are integrated jointly by solve_ivp (DOP853, rtol = atol =
    1e-12, max_step = the smallest time constant 1/max|eig|) up to the next delivery, source
    spike, refractory end or t_max, with one terminal event (g_i upward) per free neuron. At a
    located crossing every free neuron with g at least as high as the crossing neuron's (up to
    min(0, g_j)) is due too: identical neurons tie exactly and fire in index order."""
    x = np.array(x0, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError("x0 must be (n, d)")
    n, d = x.shape
    A = _per_neuron(A, n, (d, d), "A")
    b = _per_neuron(b, n, (d,), "b")
    c = np.asarray(c, dtype=np.float64)
    if c.shape != (d,):
        raise ValueError("c must have shape (d,)")
    theta = _per_neuron(theta, n, (), "theta")
    r = _per_neuron(refractory, n, (), "refractory")
    if np.any(r < 0):
        raise ValueError("refractory periods must be >= 0")
    if due_inputs not in ("lost", "apply"):
        raise ValueError("due_inputs is 'lost' or 'apply'")
    reset = [(int(k), op, float(value)) for k, op, value in reset]
    if any(op not in ("set", "add") or not 0 <= k < d for k, op, _ in reset):
        raise ValueError("reset ops are (k, 'set' | 'add', value) with 0 <= k < d")
    clamped = sorted({k for k, op, _ in reset if op == "set"})
    is_clamped = np.zeros(d, dtype=bool)
    is_clamped[clamped] = True

    pre, post = np.asarray(pre, dtype=np.int64), np.asarray(post, dtype=np.int64)
    weight, delay = np.asarray(weight, dtype=np.float64), np.asarray(delay, dtype=np.float64)
    port = np.asarray(port, dtype=np.int64)
    port_var = [int(k) for k in np.asarray(port_var, dtype=np.int64).ravel()]
    m = pre.size
    if not pre.shape == post.shape == weight.shape == delay.shape == port.shape == (m,):
        raise ValueError("pre, post, weight, delay and port must be 1-D arrays of one length")
    if np.any(post < 0) or np.any(post >= n) or np.any(pre < 0) or np.any(delay < 0):
        raise ValueError("post must name neurons, pre senders, delays must be >= 0")
    if np.any(port < 0) or np.any(port >= len(port_var)) or \
            any(not 0 <= k < d for k in port_var):
        raise ValueError("ports index port_var, whose entries index state variables")
    count = math.inf if count is None else count
    if count == math.inf and t_max == math.inf:
        raise ValueError("give count or a finite t_max")

    if sources is None:
        source_spikes = []
    else:
        ids, ts = sources
        ids = [int(k) for k in np.asarray(ids).ravel()]
        ts = [float(s) for s in np.asarray(ts, dtype=np.float64).ravel()]
        if len(ids) != len(ts) or any(k < 0 for k in ids) or any(s < 0 for s in ts):
            raise ValueError("sources: numbers >= 0, times >= 0, one time per number")
        source_spikes = sorted((s, n + k) for k, s in zip(ids, ts))
    next_source = 0

    out = {}                                       # synapses of each sender, in synapse order
    for s in range(m):
        out.setdefault(int(pre[s]), []).append(s)

    # smallest time constant over the free and the clamped matrices
    rates = [0.0]
    for i in range(n):
        held = A[i].copy()
        held[is_clamped] = 0.0
        rates += [np.abs(np.linalg.eigvals(A[i])).max(), np.abs(np.linalg.eigvals(held)).max()]
    max_step = 1.0 / max(rates) if max(rates) > 0 else math.inf

    def g(i):
        return float(c @ x[i]) - theta[i]

    def rhs_for(rows, held):
        """x' for the neurons `rows` (a sub-array), clamped variables of `held` ones at 0."""
        Ar, br = A[rows], b[rows]
        k_held = np.ix_(held, is_clamped)

        def rhs(_, y):
            X = y.reshape(-1, d)
            dX = np.empty_like(X)
            for k in range(d):
                acc = br[:, k].copy()
                for l in range(d):
                    acc += Ar[:, k, l] * X[:, l]
                dX[:, k] = acc
            dX[k_held] = 0.0
            return dX.ravel()
        return rhs

    def event_for(row, i):
        def event(_, y):
            return float(c @ y[row * d:(row + 1) * d]) - theta[i]
        event.terminal, event.direction = True, 1
        return event

    free = np.full(n, -math.inf)                   # end of each neuron's refractory period
    due = np.zeros(n, dtype=bool)
    queue = []                                     # (arrival, emission number, synapse)
    emitted = 0
    spikes_i, spikes_t = [], []
    t = 0.0
    quiet = 0.0                                    # ms without any event (for `idle`)

    def emit(j, t):
        """Sender j spikes at t: zero-delay synapses deliver now, in order; the others queue."""
        nonlocal emitted
        for s in out.get(j, ()):
            if delay[s] == 0.0:
                deliver(s, t)
            else:
                heapq.heappush(queue, (t + float(delay[s]), emitted, s))
        emitted += 1

    def deliver(s, t):
        i, k = int(post[s]), port_var[port[s]]
        if t < free[i]:                            # refractory: clamped inputs are lost
            if not is_clamped[k]:
                x[i, k] += weight[s]
            return
        if due[i] and due_inputs == "lost":
            return
        x[i, k] += weight[s]
        if not due[i] and g(i) >= 0.0:
            due[i] = True

    def instant(t):
        """All events at t; False when `count` spikes are reached."""
        nonlocal next_source
        for i in range(n):
            if t >= free[i] and g(i) >= 0.0:
                due[i] = True
        fired = 0
        while True:
            if queue and queue[0][0] <= t:
                _, _, s = heapq.heappop(queue)
                deliver(s, t)
            elif next_source < len(source_spikes) and source_spikes[next_source][0] <= t:
                _, k = source_spikes[next_source]
                next_source += 1
                emit(k, t)
            elif due.any():
                j = int(np.argmax(due))
                fired += 1
                if fired > n:
                    raise RuntimeError(f"more than {n} spikes at t = {t}: an excitatory loop")
                spikes_i.append(j)
                spikes_t.append(t)
                emit(j, t)                         # j is still due: its own inputs are lost
                due[j] = False
                for k, op, value in reset:
                    x[j, k] = value if op == "set" else x[j, k] + value
                free[j] = t + r[j]
                if len(spikes_t) >= count:
                    return False
                if t >= free[j] and g(j) >= 0.0:
                    due[j] = True
            else:
                return True

    going = instant(t)
    while going and t < t_max:
        held = t < free
        stops = [t_max]
        if queue:
            stops.append(queue[0][0])
        if next_source < len(source_spikes):
            stops.append(source_spikes[next_source][0])
        if held.any():
            stops.append(free[held].min())
        stop = min(stops)
        chunked = stop == math.inf
        if chunked:
            stop = t + 1000.0
        # identical neurons (parameters, state, refractory status) are integrated once, so
        # that they stay bit-identical and tie exactly
        groups = {}
        for i in range(n):
            key = (A[i].tobytes(), b[i].tobytes(), theta[i], r[i], free[i] if held[i] else 0,
                   bool(held[i]), x[i].tobytes())
            groups.setdefault(key, []).append(i)
        groups = list(groups.values())
        rows = np.array([members[0] for members in groups])
        watched = [row for row, i in enumerate(rows) if not held[i]]
        sol = solve_ivp(rhs_for(rows, held[rows]), (t, stop), x[rows].ravel(), method="DOP853",
                        rtol=1e-12, atol=1e-12, max_step=max_step,
                        events=[event_for(row, rows[row]) for row in watched] or None)
        if sol.status < 0:
            raise RuntimeError(f"solve_ivp failed at t = {t}: {sol.message}")
        y = sol.y[:, -1].reshape(-1, d)
        for row, members in enumerate(groups):
            x[members] = y[row]
        t_new = float(sol.t[-1])
        if sol.status == 1:                        # a located crossing
            row = min((float(sol.t_events[e][0]), row) for e, row in enumerate(watched)
                      if sol.t_events[e].size)[1]
            due[groups[row]] = True
            level = min(0.0, g(rows[row]))
            for i in range(n):
                if t_new >= free[i] and g(i) >= level:
                    due[i] = True
            quiet = 0.0
        elif chunked:
            quiet += t_new - t
            if quiet >= idle:
                t = t_new
                break
        else:
            quiet = 0.0
        t = t_new
        going = instant(t)
    result = (np.array(spikes_i, dtype=np.int64), np.array(spikes_t, dtype=np.float64))
    return result + (x.copy(),) if return_state else result
