"""What ``tools/train.py`` and ``tools/test.py`` do, as functions tests can call: turn a config plus command-line
choices into an mmengine ``Runner`` and run it. mmengine's Runner does the loops, checkpoints, logging, schedulers
and DDP; this module only prepares its config."""
import glob
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from pyskl.evaluation.metrics import RGBPOSE_MIXES
from pyskl.utils import load_checkpoint, register_all_modules
from pyskl.utils.config_check import check_cfg_options, check_config_keys, check_config_types, dataset_configs
from pyskl.utils.dist import ddp_wrapper_cfg, init_distributed, unwrap_model
from pyskl.utils.errors import ConfigError, InputNotFoundError

DEFAULT_METRICS = ('top_k_accuracy', 'mean_class_accuracy')


def read_config(filename: str) -> Config:
    """``Config.fromfile`` whose errors name the file: a missing file or one that is not a valid config."""
    if not osp.isfile(filename):
        raise InputNotFoundError(f'config file {filename} does not exist')
    try:
        return Config.fromfile(filename)
    except SyntaxError as e:
        raise ConfigError(f'{filename} is not a valid config: {e.msg} (line {e.lineno})') from e
    except NameError as e:  # a variable the file uses before (or without) defining it
        raise ConfigError(f'{filename} is not a valid config: {e}') from e


def load_config(config: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    """The config with ``cfg_options`` merged, every ``type`` and every part's keys checked."""
    cfg = config if isinstance(config, Config) else read_config(config)
    name = config if isinstance(config, str) else 'the config'
    if cfg_options:
        check_cfg_options(cfg, cfg_options, name)
        cfg.merge_from_dict(cfg_options)
    cfg.setdefault('default_scope', 'pyskl')
    check_config_types(cfg, name)
    check_config_keys(cfg, name)
    return cfg


def _default_work_dir(config) -> str:
    stem = osp.splitext(osp.basename(config))[0] if isinstance(config, str) else 'run'
    return osp.join('./work_dirs', stem)


def _add_hook(cfg: Config, hook: str) -> None:
    hooks = list(cfg.get('custom_hooks', None) or [])
    if not any(h.get('type') == hook for h in hooks):
        hooks.append(dict(type=hook))
    cfg.custom_hooks = hooks


def _add_input_check(cfg: Config) -> None:
    _add_hook(cfg, 'InputCheckHook')
    _tell_datasets_num_classes(cfg)


def _tell_datasets_num_classes(cfg: Config) -> None:
    """Give each PoseDataset the model's ``cls_head.num_classes``, so that a label the head cannot score is refused
    at load time, naming the file and the sample (not by the loss, mid-epoch)."""
    from pyskl.datasets import PoseDataset
    from pyskl.registry import DATASETS
    num_classes = (cfg.get('model') or {}).get('cls_head', {}).get('num_classes')
    if not isinstance(num_classes, int):
        return
    register_all_modules(init_default_scope=False)
    for _, dataset in dataset_configs(cfg):
        kind = DATASETS.get(dataset['type']) if isinstance(dataset.get('type'), str) else None
        if isinstance(kind, type) and issubclass(kind, PoseDataset):
            dataset.setdefault('num_classes', num_classes)


def _add_training_reliability(cfg: Config, strict_load: bool) -> None:
    """Per-epoch reseeding (exact resumes, fresh augmentations every epoch) and strict ``load_from`` / resume."""
    _add_hook(cfg, 'EpochSeedHook')
    if strict_load and cfg.get('strict_load', True):
        _add_hook(cfg, 'StrictLoadHook')


def _setup_launcher(cfg: Config, launcher: str) -> None:
    cfg.launcher = launcher
    init_distributed(launcher)
    if launcher != 'none':
        wrapper = ddp_wrapper_cfg(cfg.get('find_unused_parameters', False))
        if wrapper is not None:
            cfg.model_wrapper_cfg = wrapper


def _lr_opt_out(cfg_options: Optional[dict]) -> bool:
    """Whether ``--cfg-options`` turned the LR rule off (``auto_scale_lr.enable=False``)."""
    options = cfg_options or {}
    enable = options.get('auto_scale_lr.enable', (options.get('auto_scale_lr') or {}).get('enable'))
    return enable is not None and not enable


def _set_lr_rule(cfg: Config, scale_lr: bool, cfg_options: Optional[dict]) -> None:
    """Turn mmengine's linear LR rule on for a config that states its ``auto_scale_lr.base_batch_size``.

    PYSKL's configs (and configs copied from them) say ``enable=False``, so a copied config ran at PYSKL's lr for
    8 x 16 samples whatever batch it really had. Here the rule is the default wherever the base batch is known: the
    file's ``enable`` is overridden, and only an explicit opt-out (``scale_lr=False``, i.e. ``--no-scale-lr``, or
    ``--cfg-options auto_scale_lr.enable=False``) keeps the lr as written.
    """
    rule = cfg.get('auto_scale_lr')
    if not rule or rule.get('base_batch_size') is None:
        return
    rule.enable = bool(scale_lr) and not _lr_opt_out(cfg_options)


def lr_rule_message(cfg: Config, world_size: int) -> Optional[Tuple[str, bool]]:
    """One line on the learning rate this run uses against the config's base batch, and whether it is a warning (the
    rule is off and the batches differ); None when the config states no ``auto_scale_lr.base_batch_size``."""
    rule = cfg.get('auto_scale_lr') or {}
    base_batch = rule.get('base_batch_size')
    optimizer = (cfg.get('optim_wrapper') or {}).get('optimizer') or {}
    loader = cfg.get('train_dataloader') or {}
    if base_batch is None or 'lr' not in optimizer or 'batch_size' not in loader:
        return None
    lr, batch = optimizer['lr'], world_size * loader['batch_size']
    scaled = lr * batch / base_batch
    run = f'this run\'s total batch is {batch} ({world_size} process(es) x {loader["batch_size"]})'
    if rule.get('enable'):
        return (f'LR: {lr:g} is the config\'s lr for a total batch of {base_batch}; {run}, so lr = {scaled:g} '
                '(linear scaling rule; --no-scale-lr keeps the config\'s lr)'), False
    if batch != base_batch:
        return (f'LR: {lr:g} is the config\'s lr for a total batch of {base_batch}, but {run} and the linear scaling '
                f'rule is off (--no-scale-lr): it would give {scaled:g}'), True
    return f'LR: {lr:g} for a total batch of {batch}, as the config states', False


def train_config(config: Union[str, Config], work_dir: Optional[str] = None, validate: bool = False,
                 resume: Union[None, bool, str] = None, seed: Optional[int] = None, deterministic: bool = False,
                 cfg_options: Optional[dict] = None, compile: bool = False, amp: bool = False,
                 scale_lr: bool = True, launcher: str = 'none', strict_load: bool = True) -> Config:
    """The Runner config for training ``config`` with PYSKL's command-line options applied.

    ``scale_lr``: scale the lr linearly with the total batch (``processes x batch_size``) against the config's
    ``auto_scale_lr.base_batch_size``, when it states one (see :func:`_set_lr_rule`); False keeps PYSKL's behaviour.
    ``strict_load=False`` (``--no-strict-load``) loads ``load_from`` / resume checkpoints that do not fit the model
    partially.
    """
    cfg = load_config(config, cfg_options)
    cfg.work_dir = work_dir or cfg.get('work_dir') or _default_work_dir(config)
    if not validate:  # mmengine trains without validation only when all three are unset
        cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
        ckpt_hook = cfg.get('default_hooks', {}).get('checkpoint')
        if ckpt_hook is not None:
            ckpt_hook.pop('save_best', None)
    if resume:
        cfg.resume = True
        cfg.load_from = None if resume is True or resume == 'auto' else resume
    if seed is not None or deterministic:
        cfg.randomness = dict(seed=seed, deterministic=deterministic)
    if compile:
        cfg.compile = True
    if amp:
        if not torch.cuda.is_available():
            raise RuntimeError('--amp needs a CUDA GPU (mmengine\'s AmpOptimWrapper); on the CPU train in float32 '
                               'by leaving --amp out')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    _set_lr_rule(cfg, scale_lr, cfg_options)
    _add_input_check(cfg)
    _add_training_reliability(cfg, strict_load)
    # DDP does not broadcast BatchNorm statistics (broadcast_buffers=False, as PYSKL): average them across processes
    # after every epoch so that checkpoints, validation and --test-last see the same model on every rank.
    cfg.setdefault('default_hooks', {}).setdefault('sync_buffers', dict(type='SyncBuffersHook'))
    _setup_launcher(cfg, launcher)
    return cfg


def _metrics_of(runner: Runner):
    return runner.test_loop.evaluator.metrics


def set_test_outputs(runner: Runner, out_file: Optional[str]) -> None:
    """Point the test metrics' score dump and confusion-matrix picture at ``out_file`` (and beside it)."""
    for metric in _metrics_of(runner):
        if hasattr(metric, 'out_file'):
            metric.out_file = out_file
        if hasattr(metric, 'confusion_matrix') and out_file:
            metric.confusion_matrix = osp.splitext(out_file)[0] + '_confusion.png'


def find_best_checkpoint(work_dir: str) -> str:
    """The best checkpoint CheckpointHook kept (``best_*.pth``); the latest epoch if several."""
    found = glob.glob(osp.join(work_dir, 'best_*.pth'))
    if not found:
        raise InputNotFoundError(f'No best_*.pth in {work_dir}: --test-best needs --validate during training')
    return max(found, key=osp.getmtime)


def train(cfg: Config, test_best: bool = False, test_last: bool = False) -> dict:
    """Train; then optionally test the last and/or best weights (writing ``{last,best}_pred.pkl`` in work_dir).

    Returns the test metrics by name ('last', 'best')."""
    register_all_modules()
    if test_best and cfg.get('val_evaluator') is None:
        raise ConfigError('--test-best needs --validate (the best checkpoint is chosen on the validation split)')
    runner = Runner.from_cfg(cfg)
    lr_line = lr_rule_message(cfg, runner.world_size)
    if lr_line:  # the logger prints on rank 0 only, and writes the work dir's log
        message, warn = lr_line
        (runner.logger.warning if warn else runner.logger.info)(message)
    runner.train()
    results = {}
    if test_last:
        set_test_outputs(runner, osp.join(cfg.work_dir, 'last_pred.pkl'))
        results['last'] = runner.test()
    if test_best:
        best = find_best_checkpoint(cfg.work_dir)
        load_checkpoint(unwrap_model(runner.model), best, strict=True)
        set_test_outputs(runner, osp.join(cfg.work_dir, 'best_pred.pkl'))
        results['best'] = runner.test()
    return results


def test_config(config: Union[str, Config], out: Optional[str] = None, metrics: Sequence[str] = DEFAULT_METRICS,
                average_clips: Optional[str] = None, work_dir: Optional[str] = None,
                cfg_options: Optional[dict] = None, compile: bool = False, launcher: str = 'none') -> Config:
    """The Runner config for testing ``config`` (the checkpoint is loaded strictly by :func:`test`)."""
    cfg = load_config(config, cfg_options)
    cfg.work_dir = work_dir or cfg.get('work_dir') or _default_work_dir(config)
    if out is not None and not out.endswith(('.pkl', '.pickle')):
        raise ConfigError(f'--out must name a .pkl or .pickle file, got {out!r}')
    evaluator = dict(cfg.get('test_evaluator') or dict(type='AccMetric'))
    if isinstance(evaluator, (list, tuple)):
        raise ConfigError('tools/test.py expects a single test_evaluator (AccMetric)')
    evaluator['metric_list'] = list(metrics)
    evaluator['out_file'] = osp.abspath(out) if out else None
    evaluator['confusion_matrix'] = (osp.splitext(osp.abspath(out))[0] if out else
                                     osp.join(osp.abspath(cfg.work_dir), 'test')) + '_confusion.png'
    cfg.test_evaluator = evaluator
    if average_clips is not None:
        cfg.model.setdefault('test_cfg', {})
        cfg.model.test_cfg['average_clips'] = None if average_clips == 'None' else average_clips
    cfg.load_from, cfg.resume = None, False
    # Testing needs no training or validation parts; unset them so the Runner does not build them.
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = cfg.param_scheduler = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    if compile:
        cfg.compile = True
    _add_input_check(cfg)
    _setup_launcher(cfg, launcher)
    return cfg


def test(cfg: Config, checkpoint: str) -> dict:
    """Load ``checkpoint`` strictly (missing or unexpected keys are an error) and run the test loop."""
    register_all_modules()
    runner = Runner.from_cfg(cfg)
    load_checkpoint(unwrap_model(runner.model), checkpoint, strict=True)
    if cfg.get('compile'):  # the Runner compiles train_step only
        model = runner.model
        model.test_step = torch.compile(model.test_step)
    return runner.test()


STREAM_PREFIXES = ('rgb_', 'pose_') + tuple(f'RGBPose_{mix}_' for mix in RGBPOSE_MIXES)


def format_metrics(metrics: dict) -> List[str]:
    """One ``name: value`` line per metric; RGBPose's streams and fusions as a table, side by side."""
    lines = [f'{k}: {v:.4f}' if isinstance(v, float) else f'{k}: {v}' for k, v in metrics.items()
             if not k.startswith(STREAM_PREFIXES)]
    names = [k[len('rgb_'):] for k in metrics if k.startswith('rgb_')]
    if names:
        streams = [p.rstrip('_') for p in STREAM_PREFIXES]
        lines.append(f'{"":<22}' + ''.join(f'{s:>14}' for s in streams))
        lines += [f'{name:<22}' + ''.join(f'{metrics.get(p + name, float("nan")):>14.4f}' for p in STREAM_PREFIXES)
                  for name in names]
    return lines


def is_main_process() -> bool:
    return int(os.environ.get('RANK', 0)) == 0
