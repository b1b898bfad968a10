"""KPIs on Dask (extra ``dask``): the report of [`csmkit.metrics`][csmkit.metrics] over export
files, dask bags and dask DataFrames, one accumulator per partition, merged in a tree.

[`dask_report()`][csmkit.dask.dask_report] runs on a ``distributed`` cluster (an existing
client, a scheduler address, or a local cluster of worker processes started for the call)
or on Dask's local scheduler; the table is identical to the one-process report.
"""

from __future__ import annotations

from csmkit.dask._report import DaskError, dask_report

__all__ = ["DaskError", "dask_report"]
