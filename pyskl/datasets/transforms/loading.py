"""Getting skeleton arrays out of an annotation: the sampled frames (``PoseDecode``) and Kinetics-400's compressed
per-skeleton format (``DecompressPose``)."""
import numpy as np
from mmcv.transforms import BaseTransform

from pyskl.registry import TRANSFORMS


def sample_error(transform, results: dict, message: str) -> ValueError:
    """A ``ValueError`` that names the transform, the sample (``frame_dir``) and, when known, its annotation file."""
    name = results.get('frame_dir', results.get('filename', '<unnamed sample>'))
    where = f" of {results['ann_file']}" if results.get('ann_file') else ''
    step = transform if isinstance(transform, str) else type(transform).__name__
    return ValueError(f'{step}: sample {name!r}{where}: {message}')


@TRANSFORMS.register_module()
class PoseDecode(BaseTransform):
    """Gather the frames ``frame_inds`` (+ ``offset``; all frames if absent) of ``keypoint`` ``[M, T, V, C]`` and
    ``keypoint_score`` ``[M, T, V]`` as float32."""

    def transform(self, results: dict) -> dict:
        if 'frame_inds' not in results:
            results['frame_inds'] = np.arange(results['total_frames'])
        inds = results['frame_inds']
        if inds.ndim != 1:
            inds = results['frame_inds'] = np.squeeze(inds)
        gather_pose_frames(self, results, inds + results.get('offset', 0))
        return results


def gather_pose_frames(transform, results: dict, inds: np.ndarray) -> None:
    """Replace ``keypoint`` and ``keypoint_score`` (those present) by their frames ``inds``, as float32."""
    for key in ('keypoint_score', 'keypoint'):
        if key in results:
            data = results[key]
            if inds.size and (inds.min() < -data.shape[1] or inds.max() >= data.shape[1]):
                raise sample_error(transform, results, f'frame indices {inds.min()}..{inds.max()} fall outside the '
                                   f'{data.shape[1]} frames of {key} (shape {data.shape})')
            # take + asarray: one copy, not two, when the data is already float32
            results[key] = np.asarray(data.take(inds, axis=1), dtype=np.float32)


@TRANSFORMS.register_module()
class DecompressPose(BaseTransform):
    """Expand PYSKL's compressed Kinetics-400 skeletons into dense arrays.

    Input: ``keypoint`` ``[N, V, 3]`` (x, y, score of N skeletons), ``frame_inds`` ``[N]`` (non-decreasing frame of
    each skeleton), optional ``anno_inds`` (the skeletons to keep, e.g. by box score) and ``total_frames``.
    Output: ``keypoint`` ``[M, T, V, 2]`` and ``keypoint_score`` ``[M, T, V]`` (float16), where M is the largest
    number of skeletons in one frame (PYSKL's ``scipy.stats.mode(frame_inds)`` *count*: the most frequent frame
    index's count), capped at ``max_person`` by keeping the highest summed scores per frame; ``frame_inds`` is
    consumed.

    Args:
        squeeze: drop frames without any skeleton (``total_frames`` becomes the number of frames that have one).
        max_person: most persons kept per frame.
    """

    def __init__(self, squeeze: bool = True, max_person: int = 10):
        self.squeeze = squeeze
        self.max_person = max_person

    def _inputs(self, results):
        for key in ('total_frames', 'frame_inds', 'keypoint'):
            if key not in results:
                raise sample_error(self, results, f'the compressed format needs {key!r}')
        frame_inds = np.asarray(results.pop('frame_inds'))
        keypoint = results['keypoint']
        if 'anno_inds' in results:
            frame_inds, keypoint = frame_inds[results['anno_inds']], keypoint[results['anno_inds']]
        if keypoint.ndim != 3 or keypoint.shape[-1] != 3 or len(keypoint) != len(frame_inds):
            raise sample_error(self, results, f'expects keypoint [N, V, 3] with one frame index per skeleton, got '
                               f'keypoint {keypoint.shape} and {len(frame_inds)} frame indices')
        if len(frame_inds) == 0:
            raise sample_error(self, results, 'has no skeletons (after the anno_inds filter)')
        if np.any(np.diff(frame_inds) < 0):
            raise sample_error(self, results, 'frame_inds must be non-decreasing')
        return frame_inds.astype(np.int64), keypoint

    def transform(self, results: dict) -> dict:
        frame_inds, keypoint = self._inputs(results)
        total_frames = int(results['total_frames'])
        if self.squeeze:
            _, frame_inds = np.unique(frame_inds, return_inverse=True)
            total_frames = int(frame_inds.max()) + 1
        elif frame_inds.min() < 0 or frame_inds.max() >= total_frames:
            raise sample_error(self, results, f'frame_inds {frame_inds.min()}..{frame_inds.max()} fall outside '
                               f'total_frames={total_frames}')
        results['total_frames'] = total_frames

        num_person = int(np.bincount(frame_inds).max())
        if num_person > self.max_person:
            # Best-scored skeletons first within each frame (a stable sort, so ties keep their order, as PYSKL).
            score_sum = keypoint[..., 2].astype(np.float16).sum(-1)
            order = np.lexsort((-score_sum.astype(np.float64), frame_inds))
            frame_inds, keypoint = frame_inds[order], keypoint[order]
        # the slot of a skeleton = how many skeletons of its frame come before it
        slot = np.arange(len(frame_inds)) - np.searchsorted(frame_inds, frame_inds, side='left')

        num_joints = keypoint.shape[1]
        new_kp = np.zeros((num_person, total_frames, num_joints, 2), dtype=np.float16)
        new_score = np.zeros((num_person, total_frames, num_joints), dtype=np.float16)
        new_kp[slot, frame_inds] = keypoint[..., :2]
        new_score[slot, frame_inds] = keypoint[..., 2]
        if num_person > self.max_person:
            num_person = results['num_person'] = self.max_person
        results['keypoint'] = new_kp[:num_person]
        results['keypoint_score'] = new_score[:num_person]
        return results

    def __repr__(self):
        return f'{type(self).__name__}(squeeze={self.squeeze}, max_person={self.max_person})'
