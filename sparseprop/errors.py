"""The library's exception type for user mistakes."""


class ModelError(ValueError):
    """A user mistake in a model, its parameters or its use.

    The message names the offending text and says what would work.
    """


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run between two chunks of the compiled loop. `result` holds the spikes
    simulated so far (a Result ending at the last of them), and the network stands at that
    moment, so a later run() continues from there. A KeyboardInterrupt, so a script still
    stops unless it catches this."""

    def __init__(self, result):
        super().__init__(f"interrupted at {result.t_end:g} ms after {result.n_spikes} spikes; "
                         f"the spikes so far are in this exception's .result")
        self.result = result
