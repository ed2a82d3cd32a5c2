"""sparseprop: exact event-based simulation and training of spiking networks declared in equations."""
__version__ = "0.1.0"

from .errors import ModelError  # noqa: E402
from .model import NeuronModel  # noqa: E402
from .library import list_models, load_model  # noqa: E402

__all__ = ["ModelError", "NeuronModel", "load_model", "list_models", "__version__"]
