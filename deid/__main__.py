"""``python -m deid`` runs the ``deid`` command."""

import sys

from deid.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
