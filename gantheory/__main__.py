"""``python -m gantheory`` is the ``gantheory`` console script."""

import sys

from .cli import main

sys.exit(main())
