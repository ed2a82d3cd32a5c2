"""Compiled kernels of a model: numba functions, with Python-friendly wrappers."""
import logging
import math

import numpy as np

from .codegen import cache
from .errors import ModelError

log = logging.getLogger("sparseprop")


class Kernels:
    """The compiled kernels of one model.

    From Python, each kernel takes its scalar (or array) arguments and uses the model's
    parameter values; keyword arguments override them, e.g. `k.ptc(1.0, -0.1, I=1.2)`.
    Vector kernels (`*_dparams`, `ptc_grads`) return a dict output name -> value.
    From numba code use `k.jit.<kernel>(args..., params)` with `params = k.params` (a float64
    array in the order of `k.parameter_names`); vector kernels take a final `out` array.
    Kernels: rhs(x), threshold(), reset(), jump(x, w), period(), dperiod_dparams(),
    phase(x), dphase_dstate(x), dphase_dparams(x), state(phase), dstate_dphase(phase),
    dstate_dparams(phase), ptc(phase, w), dptc_dphase(phase, w), dptc_dw(phase, w),
    dptc_dparams(phase, w), ptc_grads(phase, w) (PTC and all its derivatives at once),
    flow(x, dt) (the state after a free evolution of dt, for neurons that do not fire on their
    own; NaN when the model has no closed-form flow). Kernels that could not be derived (the
    phase map of a model whose drive stays below the reset) return NaN.

    Kernels of a numeric phase map (`numeric_values` is not None) hold tables built for those
    parameter values: overriding a value raises ModelError (build a model with the new values).
    They return NaN for states below the approximated range (`numeric_range`).
    """

    def __init__(self, module, values):
        self.jit = module
        self.path = module.__file__
        self.parameter_names = tuple(module.PARAMETERS)
        self.params = np.array([values[p] for p in self.parameter_names], dtype=np.float64)
        self.numeric_values = getattr(module, "NUMERIC_VALUES", None)
        self.numeric_range = getattr(module, "NUMERIC_RANGE", None)
        self.names = tuple(name for name, _, _ in module.KERNELS)
        for name, nargs, outputs in module.KERNELS:
            setattr(self, name, self._wrap(name, nargs, outputs))

    def params_with(self, **overrides):
        """The parameter array with some values replaced."""
        params = self.params.copy()
        for name, value in overrides.items():
            if name not in self.parameter_names:
                raise ModelError(f"'{name}' is not a parameter; the parameters are "
                                 f"{', '.join(self.parameter_names) or 'none'}")
            params[self.parameter_names.index(name)] = value
        if self.numeric_values is not None and overrides and any(
                params[i] != self.numeric_values[p] for i, p in enumerate(self.parameter_names)):
            raise ModelError(
                f"this model's phase map is numeric, built for {self.numeric_values}; other "
                f"parameter values ({overrides}) need a new map: use "
                f"model.with_parameters(...) and compile that")
        return params

    def _wrap(self, name, nargs, outputs):
        function = getattr(self.jit, name)
        vector, names = outputs is not None, outputs

        def call(*args, **overrides):
            if len(args) != nargs:
                raise ModelError(f"{name} takes {nargs} argument(s), got {len(args)}")
            params = self.params_with(**overrides)
            if all(np.ndim(a) == 0 for a in args):
                args = [float(a) for a in args]
                if not vector:
                    return function(*args, params)
                out = np.empty(len(names))
                function(*args, params, out)
                return dict(zip(names, out.tolist()))
            arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args])
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

    def check(self, firing=True):
        """Cheap numeric self-test at the parameter values; returns a problem text or None.
        firing: the model fires on its own at these values (else the flow is tested)."""
        if self.numeric_values is not None and any(
                self.numeric_values.get(p) != v for p, v in zip(self.parameter_names,
                                                                self.params.tolist())):
            return f"numeric tables built for other parameter values {self.numeric_values}"
        if not firing:
            return self._check_flow()
        try:
            period = self.period()
            if not (math.isfinite(period) and period > 0):
                return f"period {period}"
            for u in (0.1, 0.5, 0.9):
                back = self.phase(self.state(u * period))
                if not abs(back - u * period) <= 1e-9 * period:
                    return f"phase(state({u * period})) = {back}"
            if math.isfinite(self.reset()) and not abs(self.phase(self.reset())) <= 1e-9 * period:
                return f"phase at reset {self.phase(self.reset())}"
            if math.isfinite(self.threshold()) and not abs(
                    self.phase(self.threshold()) - period) <= 1e-9 * period:
                return f"phase at threshold {self.phase(self.threshold())}"
            a, b = self.state(0.3 * period), self.state(0.6 * period)
            nodes, weights = np.polynomial.legendre.leggauss(40)
            xs = (a + b) / 2 + (b - a) / 2 * nodes
            integral = (b - a) / 2 * sum(wk / self.rhs(xk) for wk, xk in zip(weights, xs))
            if not abs(integral - 0.3 * period) <= 1e-7 * period:
                return f"integral of 1/f over a third of the period {integral}"
        except (ArithmeticError, ValueError) as exc:
            return str(exc)
        return None

    def _check_flow(self):
        """flow(x, dt) is the flow of f: flow(x, 0) = x to rounding, d flow/d dt = f(flow) (central
        differences) and flow(flow(x, a), b) = flow(x, a + b), from below the reset and from
        the threshold (both sides of the resting state)."""
        low, high = self.reset(), self.threshold()
        for x in (low - (high - low), high):
            rate = self.rhs(x)
            if not math.isfinite(rate):
                return f"d state/dt at {x} is {rate}"
            if rate == 0:
                continue
            dt = 0.3 * (high - low) / abs(rate)
            y, h = self.flow(x, dt), 1e-4 * dt
            slope = (self.flow(x, dt + h) - self.flow(x, dt - h)) / (2 * h)
            scale = abs(x) + abs(high - low)
            if not (math.isfinite(y) and abs(self.flow(x, 0.0) - x) <= 1e-15 * scale
                    and abs(slope - self.rhs(y)) <= 1e-6 * (abs(self.rhs(y)) + abs(rate))
                    and abs(self.flow(self.flow(x, dt / 3), 2 * dt / 3) - y) <= 1e-12 * scale):
                return f"flow({x}, {dt}) = {y} is not the flow of d state/dt"
        return None

    def __repr__(self):
        return f"<Kernels {', '.join(self.names)} from {self.path}>"


def compile_model(model):
    """Kernels for `model`: a verified cached module if one exists, else derive, render, store."""
    key = cache.model_key(model.spec())
    for path in cache.candidates(key):
        try:
            kernels = Kernels(cache.load(path), model.parameters)
        except Exception as exc:  # a damaged file: say so and generate a fresh one
            log.warning("%s: skipping unreadable cached module %s (%s)", model.name, path, exc)
            continue
        problem = kernels.check(model.regime == "firing")
        if problem is None:
            log.info("%s: kernels from cache %s", model.name, path)
            return kernels
        log.info("%s: cached %s does not fit these parameter values (%s)", model.name, path, problem)
    source = model.source()
    path = cache.store(key, source)
    kernels = Kernels(cache.load(path), model.parameters)
    problem = kernels.check(model.regime == "firing")
    if problem is not None:
        raise ModelError(f"the compiled kernels of {model.name} fail their self-test ({problem}); "
                         f"please report this with the model")
    log.info("%s: kernels generated and compiled into %s", model.name, path)
    return kernels
