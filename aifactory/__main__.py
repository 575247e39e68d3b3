"""`python -m aifactory` runs the command-line tool."""

import sys

from aifactory.cli import main

sys.exit(main())
