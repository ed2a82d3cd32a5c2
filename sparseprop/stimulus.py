"""Stimuli: a parameter of chosen neurons that changes at given times, exactly (Brian2's
TimedArray of a drive, NEST's step_current_generator).

    step = Stimulus("E", "I", times=[100.0, 300.0], values=[1.5, 0.9])

sets parameter I of every neuron of population E to 1.5 at t = 100 ms and to 0.9 at 300 ms
(before 100 ms each keeps its own value of I). A change is an event like a spike: each neuron it
concerns is brought to that instant by its exact flow and continues from there with the new
value, so spike times stay exact and `result.backward` gives dL/d(each value).

How: a driven parameter p becomes a state variable that does not move (dp/dt = 0) with an input
port `stimulus_p` whose input sets it (on_pre 'p = w'). The model must then still have linear
dynamics (x' = A x + b): a drive that enters the equations as a term of its own (I in LIF's
(I - v)/tau) does; a time constant, or the drive of a QIF (v**2 + I), does not and is refused.
The linear engines then run the network unchanged (the changes are an input stream:
sparseprop.engine.inputs, kind STEP), and their reverse sweep gives the values' gradients as it
gives any input weight's.
"""
import numpy as np

from . import units
from .connectivity import _real_array
from .errors import ModelError
from .sources import event_times

PORT = "stimulus_{}"   # the input port of a driven parameter


class Stimulus:
    """Parameter `parameter` of the neurons of population `target` (a name; None: every neuron)
    takes values[k] from times[k] (ms) on. times: strictly increasing, finite, >= 0. values: one
    number per time (the same for every target neuron) or an array (times, target neurons).
    Before times[0] each neuron has its own value of the parameter."""

    def __init__(self, target, parameter, times, values):
        if target is not None and not (isinstance(target, str) and target.isidentifier()):
            raise ModelError(f"Stimulus: target must be a population's name or None (every "
                             f"neuron); got {target!r:.60}")
        if not (isinstance(parameter, str) and parameter.isidentifier()):
            raise ModelError(f"Stimulus: parameter must be the name of a model parameter such "
                             f"as 'I'; got {parameter!r:.60}")
        self.target, self.parameter = target, parameter
        where = repr(self)
        self.times = event_times(times, where)
        if self.times.size == 0:
            raise ModelError(f"{where}: times is empty; give one or more times (ms)")
        back = np.flatnonzero(np.diff(self.times) <= 0)
        if back.size:
            k = back[0]
            raise ModelError(f"{where}: times must be strictly increasing; times[{k}] = "
                             f"{self.times[k]} >= times[{k + 1}] = {self.times[k + 1]}")
        self.values = values    # as given (perhaps quantities); converted by `values_for`
        self.shared = np.ndim(values) == 1   # one value per time for every target neuron
        self.times.flags.writeable = False

    def values_for(self, model, n_target):
        """The values as plain numbers (converted with the model's units), shape (times,
        n_target); ModelError naming what does not fit."""
        where = f"{self!r}: values"
        convert = units.parameter_values if self.parameter in model.parameters else \
            units.state_values
        given = convert(model, {self.parameter: self.values}, where)[self.parameter]
        values = _real_array(given, where)
        k = self.times.size
        if values.shape == (k,):
            values = np.repeat(values[:, None], n_target, axis=1)
        elif values.shape != (k, n_target):
            raise ModelError(f"{where} has shape {values.shape}; give one value per time "
                             f"({k},) or one per time and target neuron ({k}, {n_target})")
        bad = np.argwhere(~np.isfinite(values))
        if bad.size:
            raise ModelError(f"{where}: value {values[tuple(bad[0])]} at times[{bad[0][0]}] is "
                             f"not finite")
        return values

    def __repr__(self):
        return f"Stimulus({self.target!r}, {self.parameter!r})"


def check_stimuli(items):
    """The Stimulus objects of a list of inputs, each checked again (its attributes may have
    been changed since it was made)."""
    return [Stimulus(s.target, s.parameter, s.times, s.values) for s in items
            if isinstance(s, Stimulus)]


def is_driven(model, parameter):
    """Whether `parameter` is a driven parameter of `model` already (a state variable with
    its stimulus port)."""
    return parameter in getattr(model, "variables", ()) and \
        PORT.format(parameter) in getattr(model, "ports", ())


def driven(model, names):
    """`model` with the parameters `names` driven (each a state variable that does not move,
    set by inputs on its port 'stimulus_<name>'), as a LinearModel; a ModelSet: each member
    that has them. ModelError when a name is neither a parameter nor driven already, or when
    the driven model's dynamics are not linear."""
    from .model_set import ModelSet
    if isinstance(model, ModelSet):
        members = [driven(m, [p for p in names if p in m.parameters or is_driven(m, p)])
                   for m in model.models]
        for p in names:
            if not any(is_driven(m, p) for m in members):
                raise ModelError(f"Stimulus: '{p}' is not a parameter of any model of "
                                 f"{model!r}")
        return ModelSet(members)
    names = [p for p in dict.fromkeys(names) if not is_driven(model, p)]
    if not names:
        return model
    for p in names:
        if p not in model.parameters:
            raise ModelError(f"Stimulus: '{p}' is not a parameter of {model.name}; its "
                             f"parameters are {', '.join(model.parameters) or 'none'}")
    from .equations import _statements
    from .linear_model import DEFAULT_PORT, LinearModel
    lines = [joined for definition, _, _, joined in _statements(model.equations)
             if definition not in names]            # (without 'I : 1' declarations)
    lines += [f"d{p}/dt = 0 : 1" for p in names]
    ports = dict(model.on_pre) if isinstance(model.on_pre, dict) else {
        DEFAULT_PORT: model.on_pre}
    ports.update({PORT.format(p): f"{p} = w" for p in names})
    parameters = {k: v for k, v in model.parameters.items() if k not in names}
    try:
        out = LinearModel("\n".join(lines), model.threshold, model.reset, ports, parameters,
                          model.name, model.refractory)
    except ModelError as exc:
        raise ModelError(f"Stimulus: {model.name} with {', '.join(names)} changing in time "
                         f"needs linear dynamics (x' = A x + b, the driven parameter a state "
                         f"variable), and it does not have them ({exc}); a stimulus can drive "
                         f"a parameter that enters the equations as a term of its own, such "
                         f"as I in dv/dt = (I - v)/tau") from None
    if model.units is not None:      # the driven parameters' units are now their variables'
        from dataclasses import replace
        u = model.units
        dims = {p: u.parameter_dims.get(p, units.NONE) for p in names}
        out.units = replace(u, variables={**u.variables, **dims},
                            parameter_dims={k: v for k, v in u.parameter_dims.items()
                                            if k not in names},
                            weight={**u.weight, **{PORT.format(p): d for p, d in dims.items()}})
    return out


__all__ = ["Stimulus", "driven", "is_driven", "check_stimuli"]
