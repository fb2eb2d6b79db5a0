class StartupError(Exception):
    """A problem the user can fix, reported as one line instead of a traceback."""
