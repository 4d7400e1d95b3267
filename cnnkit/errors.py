"""User-facing errors: each message is one line that says what is wrong and what to do."""


class CnnkitError(Exception):
    """Base of every error the CLI and the dashboard show as a one-line message."""


class ConfigError(CnnkitError, ValueError):
    """A rejected value. The message names the field and says what is allowed."""

    def __init__(self, field: str, message: str):
        self.field = field
        shown = field if str(field).isprintable() else repr(field)  # a name from a user must not break the line
        super().__init__(f"{shown}: {message}")


class DataError(CnnkitError):
    """A dataset is missing, unreadable or corrupt."""


class StoreError(CnnkitError):
    """The run store refused an operation (unknown run, read-only disk, bad bundle, …)."""
