"""csmkit: customer-service-management primitives for Python.

The library is split into small packages that can be used alone:

* :mod:`csmkit.timeline`: what happened to a ticket, in order (the source of truth);
* :mod:`csmkit.conditions`: one safe expression language for "does this ticket match?";
* :mod:`csmkit.errors`: the one exception tree every part raises from.
"""

from __future__ import annotations

from csmkit._version import __version__

__all__ = ["__version__"]
