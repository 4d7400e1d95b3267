"""User-facing errors: each message is one line that says what is wrong and what to do."""


class CnnkitError(Exception):
    """Base of every error the CLI and the dashboard show as a one-line message."""


class ConfigError(CnnkitError, ValueError):
    """A rejected value. The message names the field and says what is allowed."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class DataError(CnnkitError):
    """A dataset is missing, unreadable or corrupt."""


class StoreError(CnnkitError):
    """The run store refused an operation (unknown run, read-only disk, bad bundle, …)."""
