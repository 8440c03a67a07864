"""Pictures people look at: skeleton samples as videos (``skeleton.py``) and PoseC3D heatmap volumes as frames
(``heatmap.py``)."""
from .heatmap import heatmap_frames, sample_volume, save_heatmaps
from .skeleton import render_2d, render_3d, score_colour, write_annotation_video

__all__ = ['heatmap_frames', 'sample_volume', 'save_heatmaps', 'render_2d', 'render_3d', 'score_colour',
           'write_annotation_video']
