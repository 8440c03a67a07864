"""User errors as one line: run_tool, the message without what the machinery added, the log keeps the traceback."""
import logging

import pytest

from pyskl.utils.errors import ConfigError, InputNotFoundError, UserError, run_tool, user_message


def test_a_user_error_is_one_line_and_status_2(capsys):
    def main(argv):
        raise ConfigError('cfg.py: unknown key \'x\'\nsecond line')

    assert run_tool(main) == 2
    assert capsys.readouterr().err == "error: cfg.py: unknown key 'x' second line\n"


def test_a_missing_named_file_is_a_user_error(capsys):
    def main(argv):
        open('/nonexistent/annotation.pkl')

    assert run_tool(main) == 2
    assert capsys.readouterr().err.startswith("error: [Errno 2] No such file or directory: '/nonexistent/")
    assert issubclass(InputNotFoundError, FileNotFoundError) and issubclass(InputNotFoundError, UserError)


def test_other_errors_keep_their_traceback_and_pyskl_debug_shows_it_for_user_errors(monkeypatch):
    def bug(argv):
        raise IndexError('a bug')

    with pytest.raises(IndexError):
        run_tool(bug)

    def user(argv):
        raise ConfigError('bad')

    monkeypatch.setenv('PYSKL_DEBUG', '1')
    with pytest.raises(ConfigError):
        run_tool(user)


def test_the_exit_status_of_main_passes_through():
    assert run_tool(lambda argv: 1) == 1 and run_tool(lambda argv: {'top1': 0.5}) == 0


def test_the_error_file_gets_the_line(tmp_path, monkeypatch, capsys):
    error_file = tmp_path / 'errors.txt'
    monkeypatch.setenv('PYSKL_ERROR_FILE', str(error_file))

    def main(argv):
        raise ConfigError('bad')

    run_tool(main)
    run_tool(main)
    assert error_file.read_text() == 'error: bad\nerror: bad\n'  # dist_*.sh print it once


def test_the_message_loses_what_the_machinery_added():
    original = ConfigError('a.pkl: sample x: bad')
    try:
        try:
            raise original
        except ConfigError as e:
            raise ConfigError(f'class `PoseDataset` in pose_dataset.py: {e}')
    except ConfigError as wrapped:
        assert user_message(wrapped) == 'a.pkl: sample x: bad'
    worker = ConfigError('Caught ConfigError in DataLoader worker process 0.\nOriginal Traceback (most recent call '
                         'last):\n  File "x.py", line 1\nConfigError: a.pkl: bad\n')
    assert user_message(worker) == 'a.pkl: bad'
    assert user_message(KeyError('quoted')) == 'quoted'


def test_the_log_file_keeps_the_traceback(tmp_path, capsys):
    from mmengine.logging import MMLogger
    log_file = tmp_path / 'run.log'
    logger = MMLogger.get_instance('test_errors_log', log_file=str(log_file))

    def main(argv):
        raise ConfigError('bad config')

    try:
        assert run_tool(main) == 2
    finally:
        for handler in logger.handlers:
            if isinstance(handler, logging.FileHandler):
                handler.flush()
    text = log_file.read_text()
    assert 'Traceback' in text and 'ConfigError: bad config' in text
    assert 'Traceback' not in capsys.readouterr().err
