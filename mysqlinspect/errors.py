"""Domain errors. Each carries the exit code it maps to; the CLI turns them into one-line messages."""

from __future__ import annotations

from mysqlinspect.exit_codes import ExitCode


class MysqlInspectError(Exception):
    """Base class of every error the tool reports to the user."""

    exit_code: ExitCode = ExitCode.SOFTWARE


class UsageError(MysqlInspectError):
    """Bad option values or combinations, unknown login path, option file that does not parse."""

    exit_code = ExitCode.USAGE


class OptionFileError(UsageError):
    """An option file could not be parsed; the message names the file and line."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line


class ConnectError(MysqlInspectError):
    """The server cannot be reached (host, port, socket, timeout) or went away."""

    exit_code = ExitCode.UNAVAILABLE


class AuthError(MysqlInspectError):
    """Authentication failed."""

    exit_code = ExitCode.NO_PERMISSION


class PrivilegeError(MysqlInspectError):
    """The account lacks a privilege; the message names the grant needed."""

    exit_code = ExitCode.NO_PERMISSION

    def __init__(self, message: str, grant: str | None = None) -> None:
        super().__init__(message)
        self.grant = grant


class UnsupportedServerError(MysqlInspectError):
    """The server lacks a feature the command needs (e.g. binary logging off)."""

    exit_code = ExitCode.UNAVAILABLE


class BinlogNotEnabledError(UnsupportedServerError):
    """Binary logging is disabled on the server."""


class DataError(MysqlInspectError):
    """Input data is unreadable, truncated or corrupt (redo files, binlog payloads, checkpoints)."""

    exit_code = ExitCode.DATA_ERROR


class EncryptedBinlogError(DataError):
    """An encrypted binlog file (MySQL binlog_encryption, MariaDB encrypt_binlog): recognised, not readable."""


class InputNotFoundError(MysqlInspectError):
    """A path given by the user does not exist or holds nothing to read."""

    exit_code = ExitCode.NO_INPUT


class FileAccessError(MysqlInspectError):
    """A file or directory the user named exists but may not be read (permission denied)."""

    exit_code = ExitCode.NO_PERMISSION


class SandboxError(MysqlInspectError):
    """A sandbox server could not be provisioned or started."""

    exit_code = ExitCode.UNAVAILABLE
