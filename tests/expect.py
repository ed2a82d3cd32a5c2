"""The assertion shared by the bad-input tests: a call must raise ModelError naming the problem."""
import pytest

from sparseprop import ModelError


def expect(call, *fragments):
    """call() must raise ModelError whose message contains every fragment (case-insensitive);
    returns the message."""
    with pytest.raises(ModelError) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), f"{fragment!r} not in message {message!r}"
    return message
