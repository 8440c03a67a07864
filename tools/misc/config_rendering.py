"""What the config generators share: config values as Python source, and the write / ``--check`` command line."""
import argparse
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]


class Name(str):
    """A variable name in a rendered config (``ann_file``), written as is instead of as a string."""


def render_value(value) -> str:
    """Python source of a config value; dicts become ``dict(k=v)`` calls like hand-written OpenMMLab configs."""
    if isinstance(value, Name):
        return str(value)
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={render_value(v)}' for k, v in value.items()) + ')'
    if isinstance(value, list):
        return '[' + ', '.join(render_value(v) for v in value) + ']'
    if isinstance(value, tuple):
        return '(' + ', '.join(render_value(v) for v in value) + (',)' if len(value) == 1 else ')')
    return repr(value)


def render_model(model: dict) -> str:
    """``model = dict(...)``: one entry a line (``type``, ``backbone``, then the others in their order), the
    backbone's arguments one a line too."""
    backbone = ',\n'.join(f'        {k}={render_value(v)}' for k, v in model['backbone'].items())
    entries = [f"    type={render_value(model['type'])}", f'    backbone=dict(\n{backbone})']
    entries += [f'    {k}={render_value(v)}' for k, v in model.items() if k not in ('type', 'backbone')]
    return 'model = dict(\n' + ',\n'.join(entries) + ')'


def differences(rendered: Dict[str, str], config_dir: Path) -> List[Tuple[str, str]]:
    """``(path, why)`` for every rendered file that is missing from ``config_dir`` or differs there."""
    found = []
    for rel, text in rendered.items():
        path = config_dir / rel
        if not path.exists():
            found.append((rel, 'missing'))
        elif path.read_text() != text:
            found.append((rel, 'differs'))
    return found


def generator_main(render_all: Callable[[], Dict[str, str]], kind: str, description: str,
                   argv: Optional[Sequence[str]] = None) -> int:
    """Write every config ``render_all`` renders under ``--out-dir``, or with ``--check`` only report the stale ones
    (exit 1 if any)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--out-dir', type=Path, default=REPO_ROOT / 'configs',
                        help='the configs folder to write or check (default: %(default)s)')
    parser.add_argument('--check', action='store_true', help='write nothing; exit 1 if a file is missing or differs')
    args = parser.parse_args(argv)
    configs = render_all()
    if args.check:
        stale = differences(configs, args.out_dir)
        for rel, why in stale:
            print(f'{args.out_dir / rel}: {why}')
        print(f'{len(stale)} of {len(configs)} {kind} configs out of date' if stale else
              f'all {kind} configs up to date')
        return 1 if stale else 0
    for rel, text in configs.items():
        path = args.out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f'wrote {len(configs)} configs under {args.out_dir}')
    return 0
