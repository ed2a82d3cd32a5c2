"""The pipeline from a model to its compiled kernels: derive -> render -> cache -> import.

    derivation(model)     the SymPy derivation (sparseprop.derive), by the model's method
    source(model)         the kernel module's Python source (sparseprop.codegen.render)
    compile_model(model)  Kernels from a verified cached module, else derive, render, store, load

NeuronModel.derive/source/compile call these. This module never imports sparseprop.model: it
reads what it needs from the model it is given (name, parameters, regime, method, spec() and
derive(), which caches the derivation on the model), so the model depends on the pipeline and
not the other way round.
"""
import logging
import sys

from .codegen import cache
from .codegen.render import render_module
from .codegen.render_linear import render_linear_module, render_set_module
from .derive import derive
from .derive_linear import derive_linear
from .errors import ModelError
from .kernels import Kernels, LinearKernels

log = logging.getLogger("sparseprop")


def _linear(model):
    """A LinearModel (several state variables) rather than a 1-D NeuronModel."""
    return hasattr(model, "variables")


def derivation(model, timeout=None):
    """The symbolic derivation of `model` (a derive.Derivation, or a LinearDerivation for a
    linear model); timeout: seconds SymPy may take (1-D models)."""
    return derive_linear(model) if _linear(model) else derive(model, timeout=timeout)


def source(model):
    """The generated kernel module's Python source for `model` (derives it if needed; a
    ModelSet: one module for its members)."""
    if hasattr(model, "models"):
        return render_set_module(model, model.derive())
    return (render_linear_module if _linear(model) else render_module)(model.derive())


def _kernels(model, module, path):
    return (LinearKernels if _linear(model) else Kernels)(module, model.parameters, path,
                                                           model.name)


def _firing(model):
    return _linear(model) or model.regime == "firing"


def compile_model(model):
    """Kernels for `model`: a verified cached module if one exists, else derive, render, store.
    One process at a time generates a model (cache.lock); the others wait and load its file.
    Generating says so on stderr first (it takes seconds); a cache hit says nothing."""
    key = cache.model_key(model.spec())
    kernels = _from_cache(model, key, discard=False)
    if kernels is not None:
        return kernels
    with cache.lock(key, model.name):
        kernels = _from_cache(model, key, discard=True)   # another process may have made it
        if kernels is not None:
            return kernels
        print(f"sparseprop: compiling {model.name} (first time only; kernels cached in "
              f"{cache.cache_dir()})", file=sys.stderr, flush=True)
        path = cache.store(key, source(model))
        kernels = _kernels(model, cache.load(path), path)
    problem = kernels.check(_firing(model))
    if problem is not None:
        raise ModelError(f"the compiled kernels of {model.name} fail their self-test at "
                         f"{model.parameters} ({problem})")
    log.info("%s: kernels generated and compiled into %s", model.name, path)
    return kernels


def _from_cache(model, key, discard):
    """Kernels from the first cached module of `key` that fits the model's values, or None.
    A file whose content does not match the hash in its name is skipped; with `discard`
    (under the lock, when no other process writes), it is also removed, with a warning."""
    for path in cache.candidates(key):
        problem = cache.mismatch(path)
        if problem is not None:
            if discard:
                log.warning("%s: removed cached module %s (%s); generating it again",
                            model.name, path, problem)
                cache.discard(path)
            continue
        try:
            kernels = _kernels(model, cache.load(path), path)
        except Exception as exc:  # a damaged file: say so and generate a fresh one
            log.warning("%s: skipping unreadable cached module %s (%s)", model.name, path, exc)
            continue
        problem = kernels.check(_firing(model))
        if problem is None:
            log.info("%s: kernels from cache %s", model.name, path)
            return kernels
        log.info("%s: cached %s does not fit these parameter values (%s)", model.name, path, problem)
    return None


class Pipeline:
    """What both model classes (NeuronModel, LinearModel) do with the pipeline: derive (cached
    on the model), source, compile (cached on the model), and the check of with_parameters."""

    _derivation = None
    _kernels = None

    def derive(self, timeout=None):
        """The symbolic derivation (a derive.Derivation, or a derive_linear.LinearDerivation).

        timeout: seconds SymPy may take (1-D models; default: SPARSEPROP_SYMPY_TIMEOUT or 60).
        """
        if self._derivation is None:
            self._derivation = derivation(self, timeout=timeout)
        return self._derivation

    def source(self):
        """The generated kernel module's Python source (derives the model if needed)."""
        return source(self)

    def compile(self):
        """Compiled kernels (numba), loaded from the on-disk cache when possible."""
        if self._kernels is None:
            self._kernels = compile_model(self)
        return self._kernels

    def _changed_parameters(self, values):
        """The model's parameters with `values` replacing some (ModelError for an unknown one)."""
        unknown = [k for k in values if k not in self.parameters]
        if unknown:
            raise ModelError(f"'{unknown[0]}' is not a parameter of {self.name}; its parameters "
                             f"are {', '.join(self.parameters) or 'none'}")
        if getattr(self, "units", None) is not None:   # declared with units: as given
            return dict(self.units.parameters, **values)
        return dict(self.parameters, **values)

    def _source(self):
        """(equations, threshold, reset, on_pre) as the user gave them (with units, if any)."""
        u = getattr(self, "units", None)
        if u is not None:
            return u.equations, u.threshold, u.reset, u.on_pre
        return self.equations, self.threshold, self.reset, self.on_pre

