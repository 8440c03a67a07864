"""RGBPoseConv3D (Duan et al., PoseC3D, CVPR 2022): a SlowOnly RGB pathway and a heatmap pathway that exchange
features both ways through lateral connections.

Inputs ``imgs [N, 3, T, H, W]`` and ``heatmap_imgs [N, K, speed_ratio * T, H / 4, W / 4]`` (PYSKL: 8 RGB frames at
224 x 224, 32 heatmap frames at 56 x 56); output ``(x_rgb, x_pose)``, each pathway's last stage. Keys are
``rgb_path.*`` then ``pose_path.*``, each a :class:`ResNet3dPathway` with PYSKL's names, so PYSKL checkpoints load
strictly.
"""
import math

import torch
import torch.nn as nn

from pyskl.registry import MODELS

from .resnet3d_slowfast import ResNet3dPathway, build_pathway, init_pathways
from .utils import channels_last_on_cpu

# PYSKL's defaults (also its rgbpose_conv3d.py): RGB SlowOnly-R50 taking pose features before stages 3 and 4; the
# pose pathway is PoseC3D's SlowOnly without temporal stride, taking RGB features before its stages 2 and 3.
RGB_PATHWAY = dict(num_stages=4, lateral=True, lateral_infl=1, lateral_activate=(0, 0, 1, 1), base_channels=64,
                   conv1_kernel=(1, 7, 7), inflate=(0, 0, 1, 1))
POSE_PATHWAY = dict(num_stages=3, stage_blocks=(4, 6, 3), lateral=True, lateral_inv=True, lateral_infl=16,
                    lateral_activate=(0, 1, 1), in_channels=17, base_channels=32, out_indices=(2, ),
                    conv1_kernel=(1, 7, 7), conv1_stride=(1, 1), pool1_stride=(1, 1), inflate=(0, 1, 1),
                    spatial_strides=(2, 2, 2), temporal_strides=(1, 1, 1))


def _lateral(pathway: ResNet3dPathway, name: str, feat: torch.Tensor, detach: bool, drop: bool):
    """What lateral ``name`` of ``pathway`` adds from the other pathway's ``feat`` (None where it has none)."""
    lateral = getattr(pathway, name, None)
    if lateral is None:
        return None
    out = lateral(feat.detach() if detach else feat)
    # Drop-path as PYSKL: the lateral still runs (a BN's statistics still move) and zeros outside the graph take its
    # place, so its parameters get no gradient at all this step.
    return out.new_zeros(out.shape) if drop else out


@MODELS.register_module()
class RGBPoseConv3D(nn.Module):
    """Two :class:`ResNet3dPathway` s run side by side; the RGB pathway's last ``pose.num_stages`` stages pair with
    the pose pathway's stages (spatially aligned: the pose stem does not stride). After each pair, ``rgb_path``'s
    ``layer{i}_lateral`` (a temporal conv striding time by ``speed_ratio``) maps the pose features into the RGB
    pathway and ``pose_path``'s ``layer{j}_lateral`` (a transposed conv upsampling time) maps the RGB features into
    the pose pathway; both are concatenated on channels before the next stages.

    Args:
        pretrained: a checkpoint of the whole backbone, loaded strictly by ``init_weights``.
        speed_ratio, channel_ratio: pose frames per RGB frame, and RGB channels per pose channel where they meet;
            written into both pathways (when they have laterals).
        rgb_detach, pose_detach: no gradient from the RGB (pose) pathway flows back through its laterals into the
            other pathway.
        rgb_drop_path, pose_drop_path: in training, the probability that all laterals into the RGB (pose) pathway
            are replaced by zeros for the step.
        rgb_pathway, pose_pathway: :class:`ResNet3dPathway` arguments.

    The output is each pathway's last stage (``out_indices`` are not used, as in PYSKL). PYSKL's ``train()`` set
    ``self.training = True`` whatever the mode, so drop-path stayed on after ``eval()``; here ``eval()`` turns it
    off.
    """

    def __init__(self, pretrained=None, speed_ratio=4, channel_ratio=4, rgb_detach=False, pose_detach=False,
                 rgb_drop_path=0., pose_drop_path=0., rgb_pathway=RGB_PATHWAY, pose_pathway=POSE_PATHWAY):
        super().__init__()
        for name, value in (('rgb_drop_path', rgb_drop_path), ('pose_drop_path', pose_drop_path)):
            if not 0 <= value <= 1:
                raise ValueError(f'RGBPoseConv3D: {name} must be a probability in [0, 1], got {value}')
        self.pretrained, self.speed_ratio, self.channel_ratio = pretrained, speed_ratio, channel_ratio
        self.rgb_detach, self.pose_detach = rgb_detach, pose_detach
        self.rgb_drop_path, self.pose_drop_path = rgb_drop_path, pose_drop_path
        self.rgb_path = build_pathway(rgb_pathway, speed_ratio, channel_ratio)
        self.pose_path = build_pathway(pose_pathway, speed_ratio, channel_ratio)
        self._check_pairing()

    @property
    def stage_offset(self) -> int:
        """RGB stages before the first paired one (PYSKL: 1, its layer1)."""
        return self.rgb_path.num_stages - self.pose_path.num_stages

    def _check_pairing(self):
        """Refuse laterals the forward cannot feed: before the stems' outputs meet, or on the unpaired RGB stages."""
        if self.stage_offset < 0:
            raise ValueError(f'RGBPoseConv3D: the pose pathway has more stages ({self.pose_path.num_stages}) than the '
                             f'RGB pathway ({self.rgb_path.num_stages})')
        unpaired = ['conv1_lateral'] + [f'layer{i}_lateral' for i in range(1, self.stage_offset + 1)]
        unfed = [f'rgb_path.{name}' for name in unpaired if hasattr(self.rgb_path, name)]
        unfed += ['pose_path.conv1_lateral'] if hasattr(self.pose_path, 'conv1_lateral') else []
        if unfed:
            raise ValueError(f'RGBPoseConv3D: no features reach {unfed}: laterals exist only after paired stages; '
                             'check lateral_activate')

    @property
    def spatial_ratio(self) -> int:
        """How many times larger the RGB frames are than the heatmaps, in H and W (PYSKL: 224 / 56 = 4)."""
        rgb, pose = self.rgb_path, self.pose_path
        rgb_stride = rgb.conv1_stride[1] * rgb.pool1_stride[1] * math.prod(rgb.spatial_strides[:self.stage_offset + 1])
        return rgb_stride // (pose.conv1_stride[1] * pose.pool1_stride[1] * pose.spatial_strides[0])

    def _join(self, x: torch.Tensor, lateral, where: str) -> torch.Tensor:
        """``x`` with the lateral features concatenated, or an error that says how the inputs must relate."""
        if lateral is None:
            return x
        if lateral.shape[2:] != x.shape[2:]:
            raise ValueError(
                f'RGBPoseConv3D: after {where} the features are {tuple(x.shape[2:])} (T, H, W) but the lateral ones '
                f'{tuple(lateral.shape[2:])}: the heatmaps must be {self.spatial_ratio} times smaller than the RGB '
                f'frames in H and W and have speed_ratio={self.speed_ratio} times as many frames (PYSKL: 8 x 224 x 224 '
                'RGB, 32 x 56 x 56 heatmaps)')
        return torch.cat((x, lateral), dim=1)

    def init_weights(self):
        init_pathways(self, self.pretrained, self.rgb_path, self.pose_path)

    def _draw_drop_path(self):
        """Whether the laterals into the RGB and into the pose pathway are dropped this step. Both are drawn in
        every training step (as PYSKL, so the random stream is the same whatever the probabilities)."""
        if not self.training:
            return False, False
        return bool(torch.rand(1) < self.rgb_drop_path), bool(torch.rand(1) < self.pose_drop_path)

    def forward(self, imgs, heatmap_imgs):
        rgb, pose = self.rgb_path, self.pose_path
        drop_rgb, drop_pose = self._draw_drop_path()
        x_rgb = rgb.maxpool(rgb.conv1(channels_last_on_cpu(imgs)))
        x_pose = pose.maxpool(pose.conv1(channels_last_on_cpu(heatmap_imgs)))
        for i in range(1, self.stage_offset + 1):
            x_rgb = getattr(rgb, f'layer{i}')(x_rgb)
        for j in range(1, pose.num_stages + 1):
            i = j + self.stage_offset
            x_rgb, x_pose = getattr(rgb, f'layer{i}')(x_rgb), getattr(pose, f'layer{j}')(x_pose)
            into_rgb = _lateral(rgb, f'layer{i}_lateral', x_pose, self.rgb_detach, drop_rgb)
            into_pose = _lateral(pose, f'layer{j}_lateral', x_rgb, self.pose_detach, drop_pose)
            where = f'rgb_path.layer{i} and pose_path.layer{j}'
            x_rgb, x_pose = self._join(x_rgb, into_rgb, where), self._join(x_pose, into_pose, where)
        return x_rgb, x_pose
