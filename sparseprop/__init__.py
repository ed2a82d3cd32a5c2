"""sparseprop: exact event-based simulation and training of spiking networks declared in equations.

At exit, the objects alive are frozen (gc.freeze) so that the interpreter's last garbage
collection does not traverse SymPy's and numba's hundreds of thousands of objects (about 0.25 s
of every process; objects in reference cycles are then left to the operating system, as Python
leaves any object alive at exit without a guaranteed __del__).
"""
import atexit
import gc

from ._version import __version__  # noqa: E402

from .errors import Interrupted, ModelError  # noqa: E402
from .model import NeuronModel  # noqa: E402
from .linear_model import LinearModel  # noqa: E402
from .library import list_models, load_model  # noqa: E402
from . import connectivity, datasets  # noqa: E402
from .connectivity import (erdos_renyi, fixed_indegree, fixed_outdegree,  # noqa: E402
                           from_edges, from_networkx)
from .network import Network, load_network  # noqa: E402
from .layered import layers  # noqa: E402
from .population import Population, Projection, build_network  # noqa: E402
from .result import Result, load_result  # noqa: E402
from .sources import PoissonInput, PoissonSource, SpikeSource, Stimulus  # noqa: E402
from .batch import Batch  # noqa: E402
from .trainer import Trainer  # noqa: E402

__all__ = ["ModelError", "Interrupted", "NeuronModel", "LinearModel", "load_model", "list_models", "Network", "Result",
           "load_result", "fixed_outdegree", "fixed_indegree", "erdos_renyi", "from_edges",
           "from_networkx", "connectivity", "datasets", "Population", "Projection", "build_network",
           "SpikeSource", "PoissonSource", "PoissonInput", "Stimulus", "load_network", "layers",
           "Batch", "Trainer", "__version__"]

atexit.register(gc.freeze)
