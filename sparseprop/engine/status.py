"""Why a compiled event loop returned, and the counters it carries from call to call: defined
once here, rendered into the engine templates (sparseprop/templates/engine_*.py.j2) and read
by the driver (sparseprop/network.py). The counters (a small int64 array) carry over between
calls so that a run cut into chunks (for progress and Ctrl-C) computes exactly what one call
would."""
STOP_TIME = 0      # the next event is past t_stop (or no neuron will ever fire)
STOP_FULL = 1      # the output arrays (or the tape) are full: call again
STOP_CASCADE = 2   # more than N spikes at one instant: an excitatory cascade that does not end
STOP_RANGE = 3     # an input moved a state outside the domain of the phase map (PTC NaN)
STOP_NAN = 4       # an input made a state NaN (e.g. on_pre 'v = sqrt(v) + w' at v < 0)
STOPS = {name: value for name, value in globals().items() if name.startswith("STOP_")}

# counters: spikes since the offset was renormalised, spikes so far at the current instant,
# the neuron whose state left the phase map or became NaN (with STOP_RANGE and STOP_NAN)
COUNTERS = {"RENORM": 0, "SAME_INSTANT": 1, "CULPRIT": 2}
