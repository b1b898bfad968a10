"""``python -m csmkit`` runs the ``csmkit`` command."""

from __future__ import annotations

import sys

from csmkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
