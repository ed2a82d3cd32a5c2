"""Why a compiled event loop returned, and the counters it carries from call to call: defined
once here, rendered into the engine templates (sparseprop/templates/engine_*.py.j2) and read
by the driver (sparseprop/engine/driver.py). The counters (a small int64 array) carry over
between calls so that a run cut into chunks (for progress and Ctrl-C) computes exactly what one
call would."""
STOP_TIME = 0      # the next event is past t_stop (or nothing will ever happen)
STOP_FULL = 1      # the outputs, the tape, the queue or the call's work budget are full: call again
STOP_CASCADE = 2   # more than N spikes at one instant: an excitatory cascade that does not end
STOP_RANGE = 3     # an input moved a state outside the domain of the phase map (PTC NaN)
STOP_NAN = 4       # an input made a state NaN (e.g. on_pre 'v = sqrt(v) + w' at v < 0)
STOPS = {name: value for name, value in globals().items() if name.startswith("STOP_")}

# counters: events since the offset was renormalised (the reference loops never renormalise: all
# their events; the driver reads it to tell a call that did something); neuron spikes so far at the
# current instant; the neuron whose state left the phase map or became NaN (with STOP_RANGE,
# STOP_NAN); the queue's size, head and free slots (sparseprop.engine.queue); spikes emitted so far
# (the emission number of the next spike, sources included); tape values and marks written by the
# current call; the delivery group interrupted by STOP_RANGE/STOP_NAN (its sender's synapse);
# WINDOWED: 1 in a window of a distributed run (sparseprop.distributed): the sparse loop keeps one
# time frame (no renormalisation), records spikes at their offset times and queues nothing (the
# driver queues every spike of the window, wherever it was emitted, after the exchange); WAITING:
# the watched neurons of a batch's run (sparseprop.batch) that have not fired yet; BCUR, BFILL: the
# queue's buffer of sorted deliveries (the next one, the end); BCUT: how often the buffer was too
# small to take every delivery before its horizon (the driver enlarges it)
COUNTERS = {"RENORM": 0, "SAME_INSTANT": 1, "CULPRIT": 2, "QSIZE": 3, "QHEAD": 4,
            "EMITTED": 5, "TAPED": 6, "MARKED": 7, "SYNAPSE": 8, "QFREE": 9, "WINDOWED": 10,
            "WAITING": 11, "BCUR": 12, "BFILL": 13, "BCUT": 14}
