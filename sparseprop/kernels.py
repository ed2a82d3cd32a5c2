"""Compiled kernels of a model: numba functions, with Python-friendly wrappers (generating,
caching and loading them is sparseprop.compile's job)."""
import math
import numbers

import numpy as np

from .analysis import classify
from .errors import ModelError


class Kernels:
    """The compiled kernels of one model.

    From Python, each kernel takes its scalar (or array) arguments and uses the model's
    parameter values; keyword arguments override them, e.g. `k.ptc(1.0, -0.1, I=1.2)`.
    Vector kernels (`*_dparams`, `ptc_grads`, `ptc_slopes`) return a dict output name -> value.
    From numba code use `k.jit.<kernel>(args..., params)` with `params = k.params` (a float64
    array in the order of `k.parameter_names`); vector kernels take a final `out` array.
    Kernels: rhs(x), threshold(), reset(), jump(x, w), period(), dperiod_dparams(),
    phase(x), dphase_dstate(x), dphase_dparams(x), state(phase), dstate_dphase(phase),
    dstate_dparams(phase), ptc(phase, w), dptc_dphase(phase, w), dptc_dw(phase, w),
    dptc_dparams(phase, w), ptc_grads(phase, w) (PTC and all its derivatives at once),
    ptc_slopes(phase, w) (d PTC / d phase and d PTC / d w at once),
    flow(x, dt) (the state after a free evolution of dt, for neurons that do not fire on their
    own; NaN when the model has no closed-form flow). Kernels that could not be derived (the
    phase map of a model whose drive stays below the reset) return NaN.

    The kernels were derived for parameters of given signs (`parameter_signs`: 1 positive, -1
    negative, 0 any real; `check_signs` finds rows of values with other signs). An override
    of another sign is checked once (the regime at those values and the self-test, `check`):
    kernels that do not hold there raise ModelError.

    Kernels of a numeric phase map (`numeric_values` is not None) hold tables built for those
    parameter values: overriding a value raises ModelError (build a model with the new values).
    They return NaN for states below the approximated range (`numeric_range`).
    """

    def __init__(self, module, values, path=None, name="the model"):
        """module: the generated module; values: parameter name -> value; path: the file the
        kernels come from (default: the module's file); name: the model's, for messages (a
        module serves every model that differs from its own only by name)."""
        self.jit = module
        self.name = name
        self.path = str(path) if path is not None else module.__file__
        self.parameter_names = tuple(module.PARAMETERS)
        self.parameter_signs = tuple(module.PARAMETER_SIGNS)
        self.params = np.array([values[p] for p in self.parameter_names], dtype=np.float64)
        self._verdicts = {}   # parameter row with other signs -> None (kernels hold) or problem
        self.numeric_values = getattr(module, "NUMERIC_VALUES", None)
        self.numeric_range = getattr(module, "NUMERIC_RANGE", None)
        self.names = tuple(name for name, _, _ in module.KERNELS)
        for name, nargs, outputs in module.KERNELS:
            setattr(self, name, self._wrap(name, nargs, outputs))

    def params_with(self, **overrides):
        """The parameter array with some values replaced (ModelError when the kernels do not
        hold at values of other signs than they were derived for)."""
        params = self.params.copy()
        for name, value in overrides.items():
            if name not in self.parameter_names:
                raise ModelError(f"'{name}' is not a parameter; the parameters are "
                                 f"{', '.join(self.parameter_names) or 'none'}")
            k = self.parameter_names.index(name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not \
                    math.isfinite(value):
                raise ModelError(f"{name} = {value!r}: a parameter override is one finite "
                                 f"number, e.g. {name}={float(self.params[k])!r}")
            params[k] = value
        if self.numeric_values is not None and overrides and any(
                params[i] != self.numeric_values[p] for i, p in enumerate(self.parameter_names)):
            raise ModelError(
                f"this model's phase map is numeric, built for {self.numeric_values}; other "
                f"parameter values ({overrides}) need a new map: use "
                f"model.with_parameters(...) and compile that")
        if overrides and self.check_signs(params)[0]:
            row = tuple(params.tolist())
            if row not in self._verdicts:
                self._verdicts[row] = self.sign_problem(params)
            if self._verdicts[row] is not None:
                raise ModelError(self._verdicts[row])
        return params

    def check_signs(self, P):
        """Boolean mask of the rows of P (float array, rows x parameters; one 1-D row is one
        row) holding a value of another sign than the kernels were derived for: not > 0 for a
        positive parameter, not < 0 for a negative one (0 counts as another sign)."""
        P = np.asarray(P, dtype=np.float64)
        rows = P[None, :] if P.ndim == 1 else P
        if rows.ndim != 2 or rows.shape[1] != len(self.parameter_names):
            raise ModelError(f"parameter rows have shape {P.shape}; give rows of "
                             f"{len(self.parameter_names)} values "
                             f"({', '.join(self.parameter_names)})")
        return self._other_signs(rows).any(axis=1)

    def _other_signs(self, values):
        """Elementwise: the value has another sign than its parameter was derived for."""
        signs = np.array(self.parameter_signs)
        return (signs > 0) & ~(values > 0) | (signs < 0) & ~(values < 0)

    def sign_problem(self, params):
        """None when the kernels hold at `params` (a row of values with other signs than they
        were derived for): the regime there (analysis.classify) and the self-test at it; else
        the reason, as a ModelError message."""
        signs = {1: "> 0", -1: "< 0"}
        changed = [(name, value, sign) for name, value, sign, other in zip(
            self.parameter_names, params.tolist(), self.parameter_signs,
            self._other_signs(params)) if other]
        what = (", ".join(f"{name} = {value!r}" for name, value, _ in changed) + f": the kernels "
                f"of {self.name} were derived for " + ", ".join(
                    f"{name} {signs[sign]}" for name, _, sign in changed))
        values = ", ".join(f"{name}={value:g}" for name, value in zip(self.parameter_names,
                                                                     params.tolist()))
        jit = self.jit
        try:
            regime, _ = classify(lambda x: jit.rhs(x, params), jit.reset(params),
                                 jit.threshold(params), jit.STATE, jit.RHS, values)
        except ModelError as exc:
            return f"{what}, and the model cannot be simulated at {values}: {exc}"
        problem = self.check(regime == "firing", params)
        if problem is None:
            return None
        assign = ", ".join(f"{name}={value!r}" for name, value, _ in changed)
        return (f"{what}, and they do not hold at {values} ({problem}); "
                f"model.with_parameters({assign}) derives {self.name} for these signs")

    def _wrap(self, name, nargs, outputs):
        function = getattr(self.jit, name)
        vector, names = outputs is not None, outputs

        def call(*args, **overrides):
            if len(args) != nargs:
                raise ModelError(f"{name} takes {nargs} argument(s), got {len(args)}")
            params = self.params_with(**overrides)
            try:
                if any(a is None for a in args):
                    raise TypeError
                arrays = [np.asarray(a, dtype=np.float64) for a in args]
                if all(a.ndim == 0 for a in arrays):
                    args = [float(a) for a in arrays]
                else:
                    arrays = np.broadcast_arrays(*arrays)
            except (TypeError, ValueError, OverflowError):
                raise ModelError(f"{name}: the arguments must be numbers or arrays of one "
                                 f"shape, got {', '.join(f'{a!r:.30}' for a in args)}") from None
            if all(a.ndim == 0 for a in arrays):
                if not vector:
                    return function(*args, params)
                out = np.empty(len(names))
                function(*args, params, out)
                return dict(zip(names, out.tolist()))
            flat = [a.ravel() for a in arrays]
            if not vector:
                result = np.array([function(*row, params) for row in zip(*flat)])
                return result.reshape(arrays[0].shape)
            out = np.empty(len(names))
            result = np.empty((len(names), flat[0].size))
            for j, row in enumerate(zip(*flat)):
                function(*row, params, out)
                result[:, j] = out
            return {p: result[i].reshape(arrays[0].shape) for i, p in enumerate(names)}

        call.__name__ = name
        call.__doc__ = function.__doc__
        return call

    def check(self, firing=True, params=None):
        """Cheap numeric self-test; returns a problem text or None.
        firing: the model fires on its own at these values (else the flow is tested); params: a
        row of parameter values in the order of `parameter_names` (default: `params`)."""
        P = self._row(params)
        if self.numeric_values is not None and any(
                self.numeric_values.get(p) != v for p, v in zip(self.parameter_names, P.tolist())):
            return f"numeric tables built for other parameter values {self.numeric_values}"
        if not firing:
            return self._check_flow(P)
        jit = self.jit
        phase = lambda x: jit.phase(x, P)  # noqa: E731
        try:
            period = jit.period(P)
            if not (math.isfinite(period) and period > 0):
                return f"period {period}"
            for u in (0.1, 0.5, 0.9):
                back = phase(jit.state(u * period, P))
                if not abs(back - u * period) <= 1e-9 * period:
                    return f"phase(state({u * period})) = {back}"
            reset, threshold = jit.reset(P), jit.threshold(P)
            if math.isfinite(reset) and not abs(phase(reset)) <= 1e-9 * period:
                return f"phase at reset {phase(reset)}"
            if math.isfinite(threshold) and not abs(phase(threshold) - period) <= 1e-9 * period:
                return f"phase at threshold {phase(threshold)}"
            a, b = jit.state(0.3 * period, P), jit.state(0.6 * period, P)
            nodes, weights = np.polynomial.legendre.leggauss(40)
            xs = (a + b) / 2 + (b - a) / 2 * nodes
            integral = (b - a) / 2 * sum(wk / jit.rhs(xk, P) for wk, xk in zip(weights, xs))
            if not abs(integral - 0.3 * period) <= 1e-7 * period:
                return f"integral of 1/f over a third of the period {integral}"
        except (ArithmeticError, ValueError) as exc:
            return str(exc)
        return None

    def _row(self, params):
        """A row of parameter values as the kernels take it (default: the model's)."""
        if params is None:
            return self.params
        row = np.ascontiguousarray(params, dtype=np.float64)
        if row.shape != self.params.shape:
            raise ModelError(f"a parameter row has shape {row.shape}; give "
                             f"{len(self.parameter_names)} values "
                             f"({', '.join(self.parameter_names)})")
        return row

    def _check_flow(self, P):
        """flow(x, dt) is the flow of f at parameters P: flow(x, 0) = x to rounding, d flow/d dt
        = f(flow) (central differences) and flow(flow(x, a), b) = flow(x, a + b), from below
        the reset and from the threshold (both sides of the resting state)."""
        jit = self.jit
        flow, rhs = (lambda x, dt: jit.flow(x, dt, P)), (lambda x: jit.rhs(x, P))  # noqa: E731
        low, high = jit.reset(P), jit.threshold(P)
        for x in (low - (high - low), high):
            rate = rhs(x)
            if not math.isfinite(rate):
                return f"d state/dt at {x} is {rate}"
            if rate == 0:
                continue
            dt = 0.3 * (high - low) / abs(rate)
            y, h = flow(x, dt), 1e-4 * dt
            slope = (flow(x, dt + h) - flow(x, dt - h)) / (2 * h)
            scale = abs(x) + abs(high - low)
            if not (math.isfinite(y) and abs(flow(x, 0.0) - x) <= 1e-15 * scale
                    and abs(slope - rhs(y)) <= 1e-6 * (abs(rhs(y)) + abs(rate))
                    and abs(flow(flow(x, dt / 3), 2 * dt / 3) - y) <= 1e-12 * scale):
                return f"flow({x}, {dt}) = {y} is not the flow of d state/dt"
        return None

    def __repr__(self):
        return f"<Kernels {', '.join(self.names)} from {self.path}>"



class LinearKernels:
    """The compiled kernels of one LinearModel (sparseprop.codegen.render_linear lists them).

    From Python: `flow(x, dt)` (the state dt ms after state x under the free flow, or with
    refractory=True the flow with the clamped variables held) and `next_crossing(x)` (the time
    from state x to its first threshold crossing under the free flow, inf if none), at the
    model's parameter values or keyword overrides. From numba code: `k.jit.<kernel>`.
    """

    numeric_values = None   # (1-D models' numeric maps: none here)
    numeric_range = None

    def __init__(self, module, values, path=None, name="the model"):
        self.jit = module
        self.name = name
        self.path = str(path) if path is not None else module.__file__
        self.parameter_names = tuple(module.PARAMETERS)
        self.params = np.array([values[p] for p in self.parameter_names], dtype=np.float64)
        self.variables = tuple(module.VARIABLES)
        self.ports = tuple(module.PORTS)
        self.clamped = tuple(module.CLAMPED)

    def workspace(self):
        """The scratch arrays of the crossing search (ws of the loops)."""
        from .engine.crossing import workspace
        rates = np.zeros(self.jit.TERMS)
        coef = np.zeros((self.jit.TERMS, self.jit.DEGREE + 1))
        return (rates, coef) + workspace(self.jit.TERMS, self.jit.DEGREE) + (
            np.zeros(len(self.variables) + 3),)

    def params_with(self, **overrides):
        """The parameter array with some values replaced."""
        params = self.params.copy()
        for name, value in overrides.items():
            if name not in self.parameter_names:
                raise ModelError(f"'{name}' is not a parameter; the parameters are "
                                 f"{', '.join(self.parameter_names) or 'none'}")
            params[self.parameter_names.index(name)] = value
        return params

    def _state(self, x):
        d = len(self.variables)
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (d,):
            raise ModelError(f"a state has shape {x.shape}; give {d} values "
                             f"({', '.join(self.variables)})")
        row = np.zeros(d + 3)   # (the loops' state row: time 0, not refractory)
        row[:d], row[d + 1] = x, -np.inf
        return row

    def flow(self, x, dt, refractory=False, params=None, **overrides):
        """The state dt ms after x (VARIABLES order) under the free flow (refractory=True: the
        clamped variables held); params: a row of parameter values (default: the model's)."""
        row, out = self._state(x), np.zeros(len(self.variables) + 3)
        kernel = self.jit.flow_refractory if refractory else self.jit.flow_free
        kernel(row, float(dt), self.params_with(**overrides) if params is None else
               np.ascontiguousarray(params, dtype=np.float64), out)
        return out[:len(self.variables)]

    def next_crossing(self, x, **overrides):
        """Time (ms) from state x to its first threshold crossing under the free flow (0 if at or
        over threshold, inf if never)."""
        return float(self.jit.next_key(self._state(x), self.params_with(**overrides),
                                       self.workspace(), -np.inf))

    def check(self, firing=True, params=None):
        """Cheap numeric self-test of the flows (x(0) = x; x(a + b) = flow(flow(x, a), b), both
        to 1e-12 relative) at the model's values or a row `params`; returns a problem text or
        None. Where two rates nearly coincide (time constants within about 1e-3 relative),
        the generic branch's closed form cancels (its error grows as 1e-16 / the rates'
        relative difference) and fails this test: a precision limit, said as such."""
        x = np.linspace(0.3, -0.7, len(self.variables))
        for refractory in (False, True):
            kw = {"refractory": refractory, "params": params}
            y = self.flow(x, 3.0, **kw)
            if not np.all(np.isfinite(y)):
                return f"the flow is not finite ({y})"
            at0 = self.flow(x, 0.0, **kw)
            twice = self.flow(self.flow(x, 1.0, **kw), 2.0, **kw)
            if not (np.max(np.abs(at0 - x)) <= 1e-12 and
                    np.max(np.abs(twice - y)) <= 1e-12 * (1 + np.max(np.abs(y)))):
                return (f"the flow is not exact to 1e-12 there: flow(x, 0) - x = {at0 - x}, "
                        f"flow(flow(x, 1), 2) - flow(x, 3) = {twice - y}; where two time "
                        f"constants nearly coincide (within about 1e-3 relative) its closed "
                        f"form cancels: make them equal (an exact branch of its own) or "
                        f"further apart")
        return None

    def __repr__(self):
        return f"<LinearKernels of {', '.join(self.variables)} from {self.path}>"
