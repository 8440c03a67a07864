"""The errors a user fixes by changing an input, and how the command-line tools report them.

Every :class:`UserError` is raised with a message that names the file, the sample or the key at fault and what is
wrong with it. :func:`run_tool` runs a tool's ``main`` and prints such an error as one line, ``error: <message>``, on
stderr, exits with status 2 and keeps the traceback in the run's log file (when mmengine has opened one); anything
else is a bug and keeps its traceback on the console. ``PYSKL_DEBUG=1`` shows the traceback of user errors too.
Under torchrun (``tools/dist_*.sh``) the line is also appended to ``$PYSKL_ERROR_FILE``, which the scripts print
after torchrun's own failure report, so that the last line on the screen is the cause.
"""
import logging
import os
import sys
from typing import Callable, Optional, Sequence

USER_ERROR_STATUS = 2


class UserError(Exception):
    """Base of the errors caused by an input (an annotation, a checkpoint, a config, a file named on the command
    line); the message says which and what is wrong."""


class ConfigError(UserError, ValueError):
    """A config that cannot work: an unknown ``type``, an argument the class does not take, a key nothing reads."""


class InputNotFoundError(UserError, FileNotFoundError):
    """A file the user named (in a config or on the command line) does not exist."""


def user_message(error: BaseException) -> str:
    """The message of ``error`` without what the machinery around it added.

    mmengine's registry re-raises a failed build as ``type(e)('class `X` in file.py: ' + message)``, and a DataLoader
    worker's error arrives as ``type(e)('Caught X in DataLoader worker process 0.\\nOriginal Traceback ...')``; both
    keep the original as the context, or the original's last line as theirs.
    """
    message = str(error)
    context = error.__context__
    while context is not None and type(context) is type(error) and str(context) and message.endswith(str(context)):
        message, context = str(context), context.__context__
    if '\nOriginal Traceback' in message:  # torch's ExceptionWrapper: the last line is "ErrorType: message"
        last = message.rstrip().splitlines()[-1]
        message = last.split(': ', 1)[1] if ': ' in last else last
    if isinstance(error, KeyError) and len(error.args) == 1 and message == repr(error.args[0]):
        message = str(error.args[0])  # KeyError quotes its message
    return message


def _log_traceback(error: BaseException) -> None:
    """Write the traceback to the log files of mmengine's loggers (never to their console handlers)."""
    try:
        from mmengine.logging import MMLogger
    except ImportError:  # pragma: no cover - mmengine is a dependency
        return
    for logger in list(MMLogger._instance_dict.values()):
        files = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
        if not files:
            continue
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, f'{type(error).__name__}: the tool '
                                   'stopped on this error', None, (type(error), error, error.__traceback__))
        for handler in files:
            handler.handle(record)


def report_user_error(error: BaseException, prog: Optional[str] = None) -> str:
    """Print ``error: <message>`` on stderr (and to ``$PYSKL_ERROR_FILE``), log the traceback; returns the line."""
    line = f'error: {user_message(error)}'.replace('\n', ' ')
    _log_traceback(error)
    error_file = os.environ.get('PYSKL_ERROR_FILE')
    if error_file:
        try:
            with open(error_file, 'a') as f:
                f.write(line + '\n')
        except OSError:
            pass
    sys.stdout.flush()
    print(line, file=sys.stderr, flush=True)
    return line


def run_tool(main: Callable, argv: Optional[Sequence[str]] = None) -> int:
    """Run a tool's ``main(argv)``: its exit status (0 unless it returns an int), or 2 after reporting a
    :class:`UserError` (or a ``FileNotFoundError``) in one line. Other exceptions propagate with their traceback."""
    try:
        status = main(argv)
    except (UserError, FileNotFoundError) as error:  # a FileNotFoundError names the file the user gave
        if os.environ.get('PYSKL_DEBUG'):
            raise
        report_user_error(error)
        return USER_ERROR_STATUS
    return status if isinstance(status, int) else 0


__all__ = ['UserError', 'ConfigError', 'InputNotFoundError', 'user_message', 'report_user_error', 'run_tool',
           'USER_ERROR_STATUS']
