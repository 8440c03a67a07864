"""The tools/data command lines, loaded as modules so that tests call their ``main(argv)`` in this process (a new
interpreter per call would spend seconds importing torch)."""
from tests.conftest import load_script


def data_tool(name: str):
    """``tools/data/<name>.py`` as a module."""
    return load_script(f'tools/data/{name}.py')


def run_data_tool(capsys, name: str, *args):
    """``(exit status, stdout, stderr)`` of ``tools/data/<name>.py ARGS``."""
    status = data_tool(name).main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err
