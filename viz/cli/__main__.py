"""``python -m viz.cli ...`` runs the ``chainrule`` command."""
import sys

from .main import main

sys.exit(main())
