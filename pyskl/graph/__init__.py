from .graph import (BUILTIN_LAYOUTS, Graph, Layout, edge2mat, get_hop_distance, get_layout, k_adjacency, layout_from,
                    normalize_digraph)

__all__ = [
    'BUILTIN_LAYOUTS', 'Graph', 'Layout', 'edge2mat', 'get_hop_distance', 'get_layout', 'k_adjacency', 'layout_from',
    'normalize_digraph'
]
