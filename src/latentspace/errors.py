"""The one exception type for errors a user can cause; the CLI prints it as one line, exit 2."""


class LatentspaceError(Exception):
    """Bad input, missing data, a run directory that is not one: anything the user can fix."""
