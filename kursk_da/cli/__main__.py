"""``python -m kursk_da.cli ...``: the ``kursk-da`` command."""

import sys

from kursk_da.cli import main

sys.exit(main())
