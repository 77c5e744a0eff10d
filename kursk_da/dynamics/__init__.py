"""The campaign model.

:mod:`kursk_da.dynamics.catalogue` is the one table of the model's quantities (no numba);
:mod:`kursk_da.dynamics.equations` the step that the engine, the NumPy reference
(:mod:`kursk_da.dynamics.reference`) and the PyMC model evaluate. Only the catalogue is
imported here, so importing this package compiles nothing.
"""

from kursk_da.dynamics.catalogue import Domain, Quantity, quantity

__all__ = ["Domain", "Quantity", "quantity"]
