"""``python -m bot`` is the ``kotae`` command."""

import sys

from bot.cli import main

sys.exit(main())
