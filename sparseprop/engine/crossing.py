"""The first threshold crossing of a linear neuron under free flow (DESIGN.md 3.7): the first
t >= 0 at which g(t) = sum_j P_j(t) exp(rate_j t) reaches 0, P_j polynomials (g is c^T x(t) -
theta for a linear model x' = A x + b: its rates are A's eigenvalues, repeated eigenvalues give
t^d exp(rate t) terms, the constant part has rate 0).

Never a missed crossing, however brief. With n coefficients in all, g has at most n - 1 real
zeros (Polya and Szego's bound for exponential polynomials); the proof is also the algorithm.
For any rate mu of g, F1 = g' - mu g = exp(mu t) (g exp(-mu t))' has one coefficient fewer, so
between two consecutive zeros of F1, g exp(-mu t) is monotone and g has at most one zero, found
by the signs at the ends. The chain F0 = g, F(k+1) = F(k)' - mu_k F(k) ends in a single term,
which has no zero on (0, inf); its zeros (none) split [0, inf) into the intervals where F(n-2)
has at most one zero each, whose zeros split it for F(n-3), and so on up to g. Each zero is
refined inside a bracket where it is the only one: Halley steps (the derivatives come from the
same exponentials), a bisection when a step leaves the bracket, a closed form (a logarithm)
for a two-term level above g; a zero of F(k > 0) only splits intervals, so a few units in the
last place will do. A crossing that lasts less than a microsecond is found as long as g's
maximum over it is above 0 in floating point; one whose maximum is 1e-9 below 0 is not
(tests/test_crossing.py). Repeated rates are allowed (they merge in the chain).

Compiled with numba, without allocation (`workspace` gives the arrays once per network).
Returns a float t with g(t) >= 0 as evaluated and g < 0 at t minus a few units in the last
place (0 if g(0) >= 0), or inf when g stays below 0 for every t < HORIZON. `lower_bound` gives
a bound below the crossing without any exponential (the engine's keys).
"""
import numba
import numpy as np

HORIZON = 1e300   # ms: a crossing later than this is reported as none (inf)


def workspace(terms, degree):
    """Arrays for `first_crossing` with up to `terms` rates and polynomials of up to `degree`:
    (coefficients of each function of the chain, their zeros, their zero counts)."""
    levels = terms * (degree + 1)
    return (np.zeros((levels, terms, degree + 1)), np.zeros((levels, levels + 1)),
            np.zeros(levels, np.int64))


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def value(rates, cf, k, t):
    """F(k)(t) = sum_j sum_d cf[k, j, d] t^d exp(rates[j] t) (a NaN from inf - inf stays)."""
    total = 0.0
    for j in range(rates.size):
        p = 0.0
        for d in range(cf.shape[2] - 1, -1, -1):
            p = p * t + cf[k, j, d]
        if p != 0.0:
            total += p if rates[j] == 0.0 else p * np.exp(rates[j] * t)
    return total


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _derivatives(rates, cf, k, t):
    """F(k)(t) and its first two derivatives, from the same exponentials."""
    f0, f1, f2 = 0.0, 0.0, 0.0
    for j in range(rates.size):
        p, dp, half = 0.0, 0.0, 0.0   # p, p' and p''/2 by Horner's scheme
        for d in range(cf.shape[2] - 1, -1, -1):
            half = half * t + dp
            dp = dp * t + p
            p = p * t + cf[k, j, d]
        if p != 0.0 or dp != 0.0 or half != 0.0:
            r = rates[j]
            e = 1.0 if r == 0.0 else np.exp(r * t)
            f0 += p * e
            f1 += (dp + r * p) * e
            f2 += (2.0 * half + 2.0 * r * dp + r * r * p) * e
    return f0, f1, f2


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _sign_at_infinity(rates, cf, k):
    """The sign of F(k)(t) for every large enough t: that of the leading coefficient of the
    term with the largest rate (0 when F(k) is identically 0)."""
    best, sign = -np.inf, 0.0
    for j in range(rates.size):
        for d in range(cf.shape[2] - 1, -1, -1):
            if cf[k, j, d] != 0.0:
                if rates[j] > best:
                    best, sign = rates[j], np.sign(cf[k, j, d])
                break
    return sign


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _sign(rates, cf, k, t, far):
    """The sign of F(k)(t); where it evaluates to NaN (overflow), its sign at infinity `far`."""
    v = value(rates, cf, k, t)
    return far if v != v else np.sign(v)


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _two_terms(rates, cf, k, a, b):
    """The zero in (a, b) of F(k) when it is c1 exp(r1 t) + c2 exp(r2 t) (two constant
    coefficients): log(-c1 / c2) / (r2 - r1), to a few units in the last place; NaN when F(k) is
    not of that form or the zero is not in (a, b)."""
    if cf.shape[2] > 1:
        for j in range(rates.size):
            for d in range(1, cf.shape[2]):
                if cf[k, j, d] != 0.0:
                    return np.nan
    first, second = -1, -1
    for j in range(rates.size):
        if cf[k, j, 0] != 0.0:
            if first < 0:
                first = j
            elif second < 0:
                second = j
            else:
                return np.nan
    if second < 0:
        return np.nan
    ratio = -cf[k, first, 0] / cf[k, second, 0]
    t = np.log(ratio) / (rates[second] - rates[first]) if ratio > 0.0 else np.nan
    return t if a < t < b else np.nan


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _refine(rates, cf, k, a, b, sa):
    """The zero of F(k) in (a, b] where it has one sign change (sign sa at a, the other at b;
    b = inf: somewhere after a), to rounding: a float t with sign(F(k)(t)) != sa as evaluated
    and sign sa at t - 4 ulp (or t = b when the bracket closes to neighbouring floats); inf
    when there is none before HORIZON. Halley steps (cubic convergence; the derivatives come
    from the same exponentials) kept inside the bracket, else a bisection, or a doubling step
    while b is inf; after 60 steps only those. A converged step probes just past the root, to
    close the bracket from the other side."""
    x = a
    f, f1, f2 = _derivatives(rates, cf, k, a)
    grow = max(1.0, a)
    for step in range(100000):
        tiny = 4.0 * np.spacing(max(abs(a), abs(x)) + 1e-300)
        if b - a <= tiny:
            return b
        y = np.nan
        if step < 60 and f == f and f1 == f1 and f1 != 0.0:
            below = 2.0 * f1 * f1 - f * f2
            y = x - (2.0 * f * f1 / below if below == below and below != 0.0 and
                     abs(f * f2) < f1 * f1 else f / f1)
            if abs(y - x) <= tiny:   # converged: probe just past the root
                y = y + tiny if x == a else y - tiny
        if not (a < y < b):
            if b == np.inf:
                y = a + grow
                grow *= 2.0
                if y >= HORIZON:
                    return np.inf
            else:
                y = a + 0.5 * (b - a)
                if not (a < y < b):   # a and b are neighbouring floats
                    return b
        f, f1, f2 = _derivatives(rates, cf, k, y)
        if f == f and np.sign(f) == sa and f != 0.0:
            a = y
        else:
            b = y
        x = y
    return b


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def _chain(rates, coef, cf):
    """Fill cf[0] = g, cf[k+1] = F(k)' - mu_k F(k) (mu_k: the rate of F(k)'s first term, whose
    degree drops by one while the others keep theirs) until one constant term is left; returns
    the number of levels (at most the number of coefficients)."""
    terms, width = rates.size, coef.shape[1]
    for j in range(terms):
        for d in range(width):
            cf[0, j, d] = coef[j, d]
    k = 0
    while True:
        measure, first = 0, -1   # sum over the terms of (degree + 1)
        for j in range(terms):
            for d in range(width - 1, -1, -1):
                if cf[k, j, d] != 0.0:
                    measure += d + 1
                    if first < 0:
                        first = j
                    break
        if measure <= 1:
            return k + 1
        mu = rates[first]
        for j in range(terms):
            shift = rates[j] - mu if j != first else 0.0
            for d in range(width):
                higher = (d + 1) * cf[k, j, d + 1] if d + 1 < width else 0.0
                cf[k + 1, j, d] = higher + shift * cf[k, j, d]
        k += 1


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def first_crossing(rates, coef, cf, zeros, count, start=0.0):
    """The first t >= start with g(t) >= 0, g(t) = sum_j sum_d coef[j, d] t^d exp(rates[j] t),
    or inf; the caller knows that g < 0 on [0, start) (start = 0, or a
    `lower_bound`). cf, zeros, count: a `workspace` at least this large. The intervals of
    every level of the chain begin at start: on a part of an interval where F(k) has at most
    one zero, it still has at most one."""
    levels = _chain(rates, coef, cf)
    if value(rates, cf, 0, start) >= 0.0:
        return start
    count[levels - 1] = 0   # a single term: no zero on (0, inf)
    for k in range(levels - 2, -1, -1):
        far = _sign_at_infinity(rates, cf, k)
        n = 0
        a = start
        sa = _sign(rates, cf, k, a, far)
        for i in range(count[k + 1] + 1):   # the intervals between the zeros of F(k+1)
            last = i == count[k + 1]
            if not last:
                b = zeros[k + 1, i]
                sb = _sign(rates, cf, k, b, far)
            else:   # to infinity: F(k) changes sign after a only if its sign there is not `far`
                if far == sa or far == 0.0:
                    break
                b, sb = np.inf, far
            if sa == 0.0:   # a zero at a: on (a, b], F(k) has b's sign (no other zero)
                sa = sb
            elif sb != sa:  # one zero in (a, b]
                t = np.nan if k == 0 or sb == 0.0 else _two_terms(rates, cf, k, a, b)
                if t != t:  # (a zero of F(k > 0) only splits intervals: a few ulps will do)
                    t = b if sb == 0.0 else _refine(rates, cf, k, a, b, sa)
                if k == 0:
                    return t
                if t == np.inf:   # beyond HORIZON
                    break
                zeros[k, n] = t
                n += 1
            a, sa = b, sb
        if k == 0:
            return np.inf
        count[k] = n
    return np.inf


@numba.njit(cache=True, error_model="numpy", _nrt=False)
def lower_bound(rates, coef):
    """A lower bound of first_crossing(rates, coef, ...) without exponentials, from g(0) < 0,
    g'(0) and bounds S >= g'(t) and M >= g''(t) for every t >= 0: g(t) <= g(0) + S t and
    g(t) <= g(0) + g'(0) t + M t^2 / 2, so g < 0 before the first root of either. Each term's
    share of S and M: c r and c r^2 (where positive) for c exp(r t); for (c0 + c1 t) exp(r t)
    with r < 0, |c1 + r c0| + |c1| / e and |2 r c1 + r^2 c0| + |r c1| / e (t exp(r t) <=
    1 / (e |r|)); c1 and 0 for c0 + c1 t. Returns (bound, exact): exact when it is the crossing
    itself (0: g(0) >= 0; inf: g cannot increase, or the sum of its terms' maxima over t >= 0,
    max(c0, 0) + max(c1, 0) / (e |r|) each, is below 0 by more than rounding: a neuron that
    cannot reach threshold is never searched); a term of another form (a positive rate, a
    higher degree) gives (nan, False): search at once."""
    g0, g1, slope, curve, top, size = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    width = coef.shape[1]
    for j in range(rates.size):
        c0 = coef[j, 0]
        c1 = coef[j, 1] if width > 1 else 0.0
        for d in range(2, width):
            if coef[j, d] != 0.0:
                return np.nan, False
        r = rates[j]
        if r > 0.0:
            return np.nan, False
        g0 += c0
        g1 += c1 + r * c0
        size += abs(c0) + abs(c1)
        if r == 0.0:
            slope += max(c1, 0.0)
            top += c0 if c1 <= 0.0 else np.inf
        elif c1 == 0.0:
            slope += max(c0 * r, 0.0)
            curve += max(c0 * r * r, 0.0)
            top += max(c0, 0.0)
        else:
            slope += abs(c1 + r * c0) + abs(c1) / np.e
            curve += abs(2.0 * r * c1 + r * r * c0) + abs(r * c1) / np.e
            top += max(c0, 0.0) + max(c1, 0.0) / (np.e * -r)
    if g0 >= 0.0:
        return 0.0, True
    if slope == 0.0 or top < -1e-12 * size:
        return np.inf, True
    bound = -g0 / slope
    if curve == 0.0:
        if g1 <= 0.0:
            return np.inf, True
        bound = max(bound, -g0 / g1)
    else:
        bound = max(bound, -2.0 * g0 / (g1 + np.sqrt(g1 * g1 - 2.0 * curve * g0)))
    return bound * (1.0 - 1e-9), False
