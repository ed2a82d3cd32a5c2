"""Driven parameters: the model of a network whose parameters a Stimulus (sparseprop.sources)
changes at given times, exactly (Brian2's TimedArray of a drive, NEST's step_current_generator).

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
from . import units
from .errors import ModelError

PORT = "stimulus_{}"   # the input port of a driven parameter


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


__all__ = ["PORT", "driven", "is_driven"]
