"""The shipped neuron models, one TOML file each (installed as the package data sparseprop.models)."""
