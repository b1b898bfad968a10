"""csmkit: customer-service-management primitives for Python.

The library is split into small packages that can be used alone:

* [`csmkit.timeline`][csmkit.timeline]: what happened to a ticket, in order (the source of truth);
* [`csmkit.conditions`][csmkit.conditions]: one safe expression language for "does this ticket
match?";
* [`csmkit.workflow`][csmkit.workflow]: state-machine graphs with roles, guards and required fields;
* [`csmkit.metrics`][csmkit.metrics]: CSAT, NPS, CES, FCR, times, SLA attainment, ROI, LTV;
* [`csmkit.storage`][csmkit.storage] and [`csmkit.plugins`][csmkit.plugins]: event stores and pluggy
  adapters (decorate plugin hooks with [`hookimpl`][csmkit.hookspecs.hookimpl]);
* [`csmkit.errors`][csmkit.errors]: the one exception tree every part raises from.
"""

from __future__ import annotations

import logging

from csmkit._version import __version__
from csmkit.hookspecs import hookimpl

__all__ = ["__version__", "hookimpl"]

# Library logging (the ``csmkit.<part>`` loggers): no output unless the application
# configures logging.
if not any(isinstance(h, logging.NullHandler) for h in logging.getLogger("csmkit").handlers):
    logging.getLogger("csmkit").addHandler(logging.NullHandler())
