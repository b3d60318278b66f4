"""``python -m deid`` runs the ``deid`` command."""

import sys

from deid.cli.main import main

sys.exit(main())
