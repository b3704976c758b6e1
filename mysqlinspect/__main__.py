"""`python -m mysqlinspect`."""

from __future__ import annotations

import sys

from mysqlinspect.cli import main

if __name__ == "__main__":
    sys.exit(main())
