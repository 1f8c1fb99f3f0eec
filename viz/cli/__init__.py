"""The command line (``chainrule draw|trace|demo|check``) and the grader behind ``chainrule check``."""
from .main import main

__all__ = ["main"]
