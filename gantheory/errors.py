"""Exceptions the toolkit raises on bad input.

Every error a user can cause (a malformed density spec, an impossible parameter, a truncated data
file, a corrupt checkpoint) is one of these. The CLI turns them into a single line on stderr and
exit status 2; nothing else is caught there, so a bug still shows its traceback.
"""


class GanTheoryError(Exception):
    """Base class: a problem with what the user asked for or supplied, not a bug."""


class SpecError(GanTheoryError, ValueError):
    """A malformed density spec or an invalid distribution parameter."""


class ConfigError(GanTheoryError, ValueError):
    """An unknown config override or an impossible value (e.g. seeds < 1)."""


class DataError(GanTheoryError):
    """A data file that is missing, truncated, corrupt or not what was expected."""


class CheckpointError(GanTheoryError):
    """A checkpoint that cannot be read or does not match the run."""


class TrainingDiverged(GanTheoryError):
    """A loss or a weight became non-finite during training."""


class OutputError(GanTheoryError):
    """An output that cannot be written: a read-only or full disk, a run directory in use."""
