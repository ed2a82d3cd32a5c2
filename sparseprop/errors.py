"""The library's exception type for user mistakes."""


class ModelError(ValueError):
    """A user mistake in a model, its parameters or its use.

    The message names the offending text and says what would work.
    """
