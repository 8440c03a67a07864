"""Procedural skeleton actions: a small, seeded dataset in PYSKL's annotation format that a GCN learns in minutes.

Every sample comes from a forward-kinematics body (joint angles over time -> joint positions, so bones keep their
lengths) acting one of 12 one-person actions or 3 two-person interactions (:data:`SYNTHETIC_CLASSES`). It is played
by one of 40 subjects, each with their own size, limb proportions, tempo and range of motion, and filmed from a
varying viewpoint. Two variants share the same motion:

* ``ntu3d``: Kinect-like 3D camera coordinates in metres (x: the camera's left, y: up, z: depth), ``keypoint
  [M, T, 25, 3]`` in NTU RGB+D's joint order, like PYSKL's ``ntu60_3danno.pkl``;
* ``coco2d``: the same scene through a 1920x1080 pinhole camera, ``keypoint [M, T, 17, 2]`` in pixels plus
  ``keypoint_score [M, T, 17]``, ``img_shape`` and ``original_shape``, like PYSKL's ``ntu60_hrnet.pkl``.

Per sample, the speed, phase and onset of the action, the length (40-120 frames at 30 fps), the viewpoint (rotation
about the vertical axis, small camera tilt and height), the position, Gaussian joint noise, 2D joint dropout (zeros
with low scores) and an optional bystander (standing or walking by; one-person actions only, M = 1 or 2) vary.
The split is by subject, like NTU's cross-subject benchmark: subjects 5, 10, ..., 40 are only in ``val``. One seed
gives the same bytes every time: each sample draws from its own generator seeded by ``(seed, split, index)``.

The generator is plain numpy (matplotlib only for :func:`save_preview`), no torch.

``coco2d`` can also be written in Kinetics-400's compressed form (:func:`compress_annotation`,
:func:`write_compressed_dataset`): a table of contents whose entries name the "kpfile" holding their skeletons, as
PYSKL's ``k400_hrnet.pkl`` does.
"""
import functools
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

from pyskl.graph import get_layout
from pyskl.utils.fileio import atomic_write, dump_pickle
from pyskl.utils.label_maps import label_map_beside, write_label_map

FPS = 30
KINDS = ('ntu3d', 'coco2d')
IMG_SHAPE = (1080, 1920)  # (h, w), a 1080p camera as in NTU RGB+D's RGB videos
MIN_FRAMES, MAX_FRAMES = 40, 120
NUM_SUBJECTS = 40
VAL_SUBJECTS = tuple(range(5, NUM_SUBJECTS + 1, 5))
TRAIN_SUBJECTS = tuple(s for s in range(1, NUM_SUBJECTS + 1) if s not in VAL_SUBJECTS)
SPLIT_CODES = dict(train=0, val=1)  # part of every sample's seed, so the two splits never share a random stream

SYNTHETIC_CLASSES = (
    'wave right hand', 'wave left hand', 'clap', 'raise both arms', 'squat', 'jump', 'kick with right leg',
    'kick with left leg', 'walk in place', 'punch forward', 'bow', 'turn around',
    'shake hands', 'push other person', 'hug other person')
TWO_PERSON_CLASSES = frozenset(range(12, 15))

# ---------------------------------------------------------------------------------------------------------------
# The body: a kinematic tree. Joints 0-24 are NTU RGB+D's Kinect v2 joints (0-based); 25-29 are face landmarks that
# only the COCO variant keeps. Body frame at rest: x = the body's right, y = up, z = backwards (it faces -z).
# ---------------------------------------------------------------------------------------------------------------
(PELVIS, SPINE_MID, NECK, HEAD, L_SHOULDER, L_ELBOW, L_WRIST, L_HAND, R_SHOULDER, R_ELBOW, R_WRIST, R_HAND, L_HIP,
 L_KNEE, L_ANKLE, L_FOOT, R_HIP, R_KNEE, R_ANKLE, R_FOOT, SPINE_SHOULDER, L_HAND_TIP, L_THUMB, R_HAND_TIP, R_THUMB,
 NOSE, L_EYE, R_EYE, L_EAR, R_EAR) = range(30)
NUM_BODY_JOINTS = 30
NTU_JOINTS = list(range(25))
# COCO-17 order: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles (left before right).
COCO_JOINTS = [NOSE, L_EYE, R_EYE, L_EAR, R_EAR, L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST,
               L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE]
FEET = [L_ANKLE, L_FOOT, R_ANKLE, R_FOOT]
FOOT_CLEARANCE = 0.05  # height of the ankle/foot joints above the floor when they touch it


def _mirror(x, y, z):
    return (-x, y, z)


# (joint, parent, rest offset from the parent in metres, segment whose proportion scales it), parents first.
_RIGHT_ARM = [(R_SHOULDER, SPINE_SHOULDER, (.17, -.04, 0), 'shoulders'), (R_ELBOW, R_SHOULDER, (0, -.28, 0), 'arms'),
              (R_WRIST, R_ELBOW, (0, -.25, 0), 'arms'), (R_HAND, R_WRIST, (0, -.07, 0), 'hands'),
              (R_HAND_TIP, R_HAND, (0, -.07, 0), 'hands'), (R_THUMB, R_HAND, (-.02, -.03, -.04), 'hands')]
_RIGHT_LEG = [(R_HIP, PELVIS, (.085, -.05, 0), 'hips'), (R_KNEE, R_HIP, (0, -.42, 0), 'legs'),
              (R_ANKLE, R_KNEE, (0, -.40, 0), 'legs'), (R_FOOT, R_ANKLE, (0, -.04, -.12), 'feet')]
_LEFT_OF = {R_SHOULDER: L_SHOULDER, R_ELBOW: L_ELBOW, R_WRIST: L_WRIST, R_HAND: L_HAND, R_HAND_TIP: L_HAND_TIP,
            R_THUMB: L_THUMB, R_HIP: L_HIP, R_KNEE: L_KNEE, R_ANKLE: L_ANKLE, R_FOOT: L_FOOT}
_SKELETON = [
    (PELVIS, -1, (0, 0, 0), 'torso'),
    (SPINE_MID, PELVIS, (0, .25, 0), 'torso'),
    (SPINE_SHOULDER, SPINE_MID, (0, .23, 0), 'torso'),
    (NECK, SPINE_SHOULDER, (0, .07, 0), 'head'),
    (HEAD, NECK, (0, .13, -.01), 'head'),
    (NOSE, HEAD, (0, -.01, -.10), 'head'),
    (L_EYE, HEAD, (-.032, .025, -.085), 'head'),
    (R_EYE, HEAD, (.032, .025, -.085), 'head'),
    (L_EAR, HEAD, (-.075, 0, -.01), 'head'),
    (R_EAR, HEAD, (.075, 0, -.01), 'head'),
] + _RIGHT_ARM + [(_LEFT_OF[j], _LEFT_OF.get(p, p), _mirror(*o), s) for j, p, o, s in _RIGHT_ARM] \
  + _RIGHT_LEG + [(_LEFT_OF[j], _LEFT_OF.get(p, p), _mirror(*o), s) for j, p, o, s in _RIGHT_LEG]
PARENTS = np.full(NUM_BODY_JOINTS, -1)
for _joint, _parent, _, _ in _SKELETON:
    PARENTS[_joint] = _parent
SEGMENTS = ('torso', 'head', 'shoulders', 'arms', 'hands', 'hips', 'legs', 'feet')


class Body:
    """One subject: bone offsets scaled by height and limb proportions, plus a personal tempo and range of motion."""

    def __init__(self, rng: np.random.Generator):
        self.height_scale = rng.uniform(0.85, 1.12)
        proportions = {segment: rng.uniform(0.92, 1.08) for segment in SEGMENTS}
        self.offsets = np.zeros((NUM_BODY_JOINTS, 3))
        for joint, _, offset, segment in _SKELETON:
            self.offsets[joint] = np.asarray(offset) * proportions[segment] * self.height_scale
        self.tempo = rng.uniform(0.85, 1.15)
        self.amplitude = rng.uniform(0.85, 1.15)
        self.rest_abduction = rng.uniform(4, 12)  # degrees the arms hang away from the body
        self.rest_elbow = rng.uniform(5, 20)

    @property
    def arm_length(self) -> float:
        return float(-self.offsets[[R_ELBOW, R_WRIST, R_HAND], 1].sum())


@functools.lru_cache(maxsize=256)
def subject_body(seed: int, subject: int) -> Body:
    """The same body for every sample of ``subject`` under ``seed`` (cached: bodies are never modified)."""
    return Body(np.random.default_rng([seed, 2, subject]))


def rotation(axis: str, degrees) -> np.ndarray:
    """Rotation matrices ``[..., 3, 3]`` about ``axis`` (right-handed) for an array of angles in degrees."""
    a = np.radians(np.asarray(degrees, dtype=np.float64))
    c, s, one, zero = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    rows = dict(x=[[one, zero, zero], [zero, c, -s], [zero, s, c]],
                y=[[c, zero, s], [zero, one, zero], [-s, zero, c]],
                z=[[c, -s, zero], [s, c, zero], [zero, zero, one]])[axis]
    return np.stack([np.stack(row, -1) for row in rows], -2)


def euler_matrix(angles: np.ndarray) -> np.ndarray:
    """``Ry @ Rx @ Rz`` of degree angles ``[..., 3]`` (x, y, z) as ``[3, 3, ...]`` (matrix axes first: numpy
    multiplies many 3x3 matrices faster that way). At a joint: first sideways (z, abduction), then forwards
    (x, flexion), then about the vertical (y, twist or heading)."""
    a = np.radians(angles)
    (cx, cy, cz), (sx, sy, sz) = np.moveaxis(np.cos(a), -1, 0), np.moveaxis(np.sin(a), -1, 0)
    r = np.empty((3, 3) + angles.shape[:-1])
    r[0, 0], r[0, 1], r[0, 2] = cy * cz + sy * sx * sz, sy * sx * cz - cy * sz, sy * cx
    r[1, 0], r[1, 1], r[1, 2] = cx * sz, cx * cz, -sx
    r[2, 0], r[2, 1], r[2, 2] = cy * sx * sz - sy * cz, sy * sz + cy * sx * cz, cy * cx
    return r


def _depth(joint: int) -> int:
    return 0 if PARENTS[joint] < 0 else 1 + _depth(PARENTS[joint])


# Joints grouped by their depth in the tree: forward kinematics handles a whole level at once. Only joints with
# children need their global rotation.
LEVELS = [np.array([j for j in range(NUM_BODY_JOINTS) if _depth(j) == d]) for d in range(1, 8)]
INNER_LEVELS = [np.array([j for j in level if j in PARENTS]) for level in LEVELS]
assert sum(map(len, LEVELS)) == NUM_BODY_JOINTS - 1


def forward_kinematics(offsets: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Joint positions ``[T, J, 3]`` relative to the pelvis from joint angles ``[T, J, 3]`` (degrees).

    A joint's rotation turns every bone below it; a child sits at its parent's position plus the parent's global
    rotation applied to the child's rest offset, so bone lengths never change.
    """
    glob = euler_matrix(angles)  # local rotations [3, 3, T, J], made global level by level
    pos = np.zeros((3, ) + angles.shape[:2])
    for children, inner in zip(LEVELS, INNER_LEVELS):
        parents = PARENTS[children]
        parent_rot = glob[:, :, :, parents]
        pos[:, :, children] = pos[:, :, parents] + (parent_rot * offsets[children].T[None, :, None]).sum(1)
        if len(inner):
            parent_rot = glob[:, :, :, PARENTS[inner]]
            glob[:, :, :, inner] = (parent_rot[:, :, None] * glob[None, :, :, :, inner]).sum(1)
    return np.moveaxis(pos, 0, -1)


# ---------------------------------------------------------------------------------------------------------------
# Motion: a person's joint angles and root movement over T frames, written with anatomical helpers (degrees).
# ---------------------------------------------------------------------------------------------------------------
class Motion:
    """What one person does: ``angles [T, J, 3]`` (degrees), ``heading [T]`` (degrees about the vertical; 0 faces
    the camera before the viewpoint turns the scene), ``advance [T]`` (metres walked along the heading), ``sway
    [T, 3]`` (small root displacements, metres) and ``lift [T]`` (height of the feet above the floor, for jumps).
    ``reach`` (arm length / 0.6 m) and ``height`` (body scale) let interactions bring hands together."""

    def __init__(self, num_frames: int, body: Body):
        self.reach = body.arm_length / 0.6
        self.height = body.height_scale
        self.angles = np.zeros((num_frames, NUM_BODY_JOINTS, 3))
        self.heading = np.zeros(num_frames)
        self.advance = np.zeros(num_frames)
        self.sway = np.zeros((num_frames, 3))
        self.lift = np.zeros(num_frames)


_SIDE = dict(R=(1, R_SHOULDER, R_ELBOW, R_HIP, R_KNEE, R_ANKLE), L=(-1, L_SHOULDER, L_ELBOW, L_HIP, L_KNEE, L_ANKLE))


def arm(m: Motion, side: str, flex=0., abduct=0., adduct=0., elbow=0., elbow_out=0.):
    """Shoulder flexion (forwards/up), abduction (out to the side/up) and horizontal adduction (towards the
    midline); elbow flexion (the forearm turns forwards/up about the upper arm's x axis) and ``elbow_out`` (about its
    z axis: the forearm turns away from the midline, i.e. up for an abducted arm, sideways for a raised one)."""
    sign, shoulder, elbow_joint = _SIDE[side][:3]
    m.angles[:, shoulder, 0] += flex
    m.angles[:, shoulder, 1] += sign * np.asarray(adduct)
    m.angles[:, shoulder, 2] += sign * np.asarray(abduct)
    m.angles[:, elbow_joint, 0] += elbow
    m.angles[:, elbow_joint, 2] += sign * np.asarray(elbow_out)


def leg(m: Motion, side: str, hip=0., knee=0., abduct=0.):
    """Hip flexion (thigh forwards), knee flexion (shank backwards) and hip abduction; the ankle keeps the foot
    parallel to the pelvis."""
    sign, _, _, hip_joint, knee_joint, ankle_joint = _SIDE[side]
    hip, knee = np.asarray(hip, dtype=np.float64), np.asarray(knee, dtype=np.float64)
    m.angles[:, hip_joint, 0] += hip
    m.angles[:, hip_joint, 2] += sign * np.asarray(abduct)
    m.angles[:, knee_joint, 0] -= knee
    m.angles[:, ankle_joint, 0] += knee - hip


def torso(m: Motion, bend=0., twist=0., lean=0.):
    """Bend forwards (spread over the lower back, mid spine and upper back; the legs stay upright), twist about
    the spine (positive turns the chest to the body's left) and lean sideways (positive towards the body's left)."""
    bend = np.asarray(bend, dtype=np.float64)
    m.angles[:, PELVIS, 0] -= 0.4 * bend
    m.angles[:, [L_HIP, R_HIP], 0] += 0.4 * bend[..., None]  # the pelvis tilts, the thighs do not
    m.angles[:, SPINE_MID, 0] -= 0.4 * bend
    m.angles[:, SPINE_SHOULDER, 0] -= 0.2 * bend
    m.angles[:, SPINE_MID, 1] -= twist
    m.angles[:, SPINE_MID, 2] -= lean


def head(m: Motion, turn=0., nod=0.):
    """Turn the head (positive to the body's left) and nod (positive looks down)."""
    m.angles[:, NECK, 1] -= turn
    m.angles[:, NECK, 0] -= nod


def smoothstep(x):
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


class Timeline:
    """When the action happens in a sample: frames ``t``, an active window ``[start, end)`` covering 70-100 % of
    the clip, and the sample's speed (subject tempo x per-sample variation) and amplitude."""

    def __init__(self, num_frames: int, rng: np.random.Generator, body: Body):
        self.num_frames = num_frames
        self.t = np.arange(num_frames, dtype=np.float64)
        self.start = rng.uniform(0, 0.15) * num_frames
        self.end = num_frames - rng.uniform(0, 0.15) * num_frames
        self.speed = body.tempo * rng.uniform(0.8, 1.25)
        self.amplitude = body.amplitude * rng.uniform(0.9, 1.1)
        self.phase = rng.uniform(0, 2 * np.pi)

    @property
    def duration(self) -> float:
        return self.end - self.start

    def envelope(self, rise: float = 8.) -> np.ndarray:
        """1 inside the active window, easing in and out over ``rise`` frames."""
        return smoothstep((self.t - self.start) / rise) * smoothstep((self.end - self.t) / rise)

    def oscillation(self, hz: float, phase: float = 0.) -> np.ndarray:
        return np.sin(2 * np.pi * hz * self.speed * self.t / FPS + self.phase + phase)

    def repetitions(self, seconds_each: float, most: int = 3):
        """Split the window into n repetitions of about ``seconds_each / speed``; the phase in [0, 1) of the current
        one (0 outside the window) and n."""
        n = int(np.clip(round(self.duration / (seconds_each / self.speed * FPS)), 1, most))
        u = (self.t - self.start) / self.duration * n
        inside = (u >= 0) & (u < n)
        return np.where(inside, u - np.floor(u), 0.), n

    def pulses(self, seconds_each: float, hold: float = 0.3, most: int = 3) -> np.ndarray:
        """Up-hold-down pulses in [0, 1], one per repetition."""
        u, _ = self.repetitions(seconds_each, most)
        return pulse(u, hold)


def pulse(u, hold=0.3):
    """0 -> 1 -> 0 over u in [0, 1], staying at 1 for the middle ``hold`` fraction."""
    ramp = (1 - hold) / 2
    return smoothstep(u / ramp) * smoothstep((1 - u) / ramp)


def arch(u, a, b):
    """A half sine over u in [a, b], 0 elsewhere."""
    inside = (u >= a) & (u <= b)
    return np.where(inside, np.sin(np.pi * np.clip((u - a) / (b - a), 0, 1)), 0.)


def idle(m: Motion, tl: Timeline, rng: np.random.Generator, body: Body):
    """What everybody does all the time: arms hanging slightly away from the body, breathing, swaying."""
    slow = [np.sin(2 * np.pi * rng.uniform(0.1, 0.4) * tl.t / FPS + rng.uniform(0, 2 * np.pi)) for _ in range(6)]
    for side, drift in (('R', slow[0]), ('L', slow[1])):
        arm(m, side, abduct=body.rest_abduction + 3 * drift, flex=3 * drift, elbow=body.rest_elbow)
    torso(m, bend=2 * slow[2], lean=1.5 * slow[3])
    head(m, turn=8 * slow[4], nod=4 * slow[5])
    m.sway[:, 0] += 0.015 * slow[3]
    m.sway[:, 2] += 0.01 * slow[2]


def gait(m: Motion, phase: np.ndarray, strength, stride=35.):
    """Alternating steps (phase in radians): each leg lifts in turn, the arms swing the other way."""
    right, left = np.maximum(0, np.sin(phase)), np.maximum(0, -np.sin(phase))
    leg(m, 'R', hip=stride * right * strength, knee=2 * stride * right * strength)
    leg(m, 'L', hip=stride * left * strength, knee=2 * stride * left * strength)
    arm(m, 'R', flex=-0.6 * stride * np.sin(phase) * strength, elbow=15 * strength)
    arm(m, 'L', flex=0.6 * stride * np.sin(phase) * strength, elbow=15 * strength)


# ---------------------------------------------------------------------------------------------------------------
# Actions: each fills the Motion of the actor (and of the partner for interactions) from a Timeline.
# ---------------------------------------------------------------------------------------------------------------
def wave(side):
    def act(people, tl, rng):
        m, env = people[0], tl.envelope(9)
        swing = tl.oscillation(rng.uniform(1.6, 2.4))
        arm(m, side, abduct=rng.uniform(85, 120) * env, flex=rng.uniform(0, 30) * env,
            elbow_out=(rng.uniform(40, 60) + 25 * tl.amplitude * swing) * env)
        head(m, turn=(12 if side == 'L' else -12) * env)
    return act


def clap(people, tl, rng):
    m, env = people[0], tl.envelope(9)
    together = 0.5 * (1 + tl.oscillation(rng.uniform(1.8, 2.8)))
    for side in 'RL':
        arm(m, side, flex=rng.uniform(35, 55) * env, adduct=(-10 + 32 * together * tl.amplitude) * env,
            elbow=rng.uniform(35, 55) * env)


def raise_both_arms(people, tl, rng):
    m = people[0]
    up = tl.pulses(2.2, hold=0.3)
    forward = rng.uniform(0, 40)  # how much the arms go up in front rather than at the side
    for side in 'RL':
        arm(m, side, abduct=(165 - forward) * tl.amplitude * up, flex=forward * up, elbow=10 * up)
    head(m, nod=-15 * up)


def squat(people, tl, rng):
    m = people[0]
    down = tl.pulses(2.4, hold=0.35, most=2) * tl.amplitude
    for side in 'RL':
        leg(m, side, hip=95 * down, knee=115 * down)
        arm(m, side, flex=rng.uniform(50, 90) * down)
    torso(m, bend=30 * down)


def jump(people, tl, rng):
    m = people[0]
    u, _ = tl.repetitions(1.1, most=3)
    active = (tl.t >= tl.start) & (tl.t < tl.end)
    crouch = (arch(u, 0, 0.35) + arch(u, 0.65, 1.0)) * active
    flight = arch(u, 0.35, 0.65) * active
    m.lift += rng.uniform(0.15, 0.35) * tl.amplitude * flight
    for side in 'RL':
        leg(m, side, hip=45 * crouch + 15 * flight, knee=75 * crouch + 25 * flight)
        arm(m, side, flex=-35 * crouch + 110 * flight, abduct=15 * flight)
    torso(m, bend=25 * crouch)


def kick(side):
    def act(people, tl, rng):
        m = people[0]
        up = tl.pulses(1.3, hold=0.05, most=2)
        other = 'L' if side == 'R' else 'R'
        leg(m, side, hip=rng.uniform(70, 95) * tl.amplitude * up, knee=80 * np.sin(np.pi * up))
        leg(m, other, hip=8 * up, knee=12 * up)
        torso(m, bend=-12 * up)
        for s in 'RL':
            arm(m, s, abduct=25 * up, elbow=30 * up)
    return act


def walk_in_place(people, tl, rng):
    m, env = people[0], tl.envelope(10)
    phase = 2 * np.pi * rng.uniform(0.75, 1.0) * tl.speed * tl.t / FPS + tl.phase
    gait(m, phase, env * tl.amplitude, stride=rng.uniform(30, 45))


def punch(people, tl, rng):
    m, guard = people[0], tl.envelope(8)
    u, n = tl.repetitions(0.55, most=8)
    first = rng.integers(2)
    which = np.floor((tl.t - tl.start) / tl.duration * n).astype(int) + first
    strike = pulse(u, hold=0.1)
    for k, side in enumerate('RL'):
        hit = strike * (which % 2 == k) * guard
        arm(m, side, flex=35 * guard + 50 * hit, elbow=115 * guard - 110 * hit, adduct=10 * guard + 10 * hit)
        torso(m, twist=(15 if side == 'R' else -15) * hit)


def bow(people, tl, rng):
    m = people[0]
    down = tl.pulses(2.6, hold=0.4, most=2)
    torso(m, bend=rng.uniform(45, 75) * tl.amplitude * down)
    head(m, nod=15 * down)
    for side in 'RL':
        arm(m, side, flex=10 * down)


def turn_around(people, tl, rng):
    m = people[0]
    progress = smoothstep((tl.t - tl.start) / tl.duration)
    m.heading += rng.choice([-1, 1]) * rng.uniform(160, 200) * progress
    stepping = np.sin(np.pi * progress)
    gait(m, 2 * np.pi * 1.6 * tl.speed * tl.t / FPS, 0.5 * stepping)


def face_each_other(people, distance):
    """The actor on the left of the scene facing right, the partner facing the actor."""
    a, b = people
    a.heading -= 90
    b.heading += 90
    return np.array([[-distance / 2, 0.], [distance / 2, 0.]])


def shake_hands(people, tl, rng):
    env, shake = tl.envelope(12), tl.envelope(20) * tl.oscillation(rng.uniform(2.5, 4))
    for m, other in (people, people[::-1]):
        meet = 130 * (other.height - m.height)  # the taller one lowers the hand, the shorter one raises it
        arm(m, 'R', flex=(50 + meet + 8 * shake) * env, adduct=30 * env, elbow=(35 - 8 * shake) * env)
        torso(m, bend=5 * env)
    return (0.75 + 0.15 * rng.random()) * (people[0].reach + people[1].reach) / 2  # the right hands meet


def push(people, tl, rng):
    a, b = people
    hit = tl.start + rng.uniform(0.35, 0.6) * tl.duration
    ready = tl.envelope(8)
    strike = arch((tl.t - hit + 8) / 16, 0, 1) * ready
    after = smoothstep((tl.t - hit) / (0.5 * FPS))
    for side in 'RL':
        arm(a, side, flex=(30 + 55 * strike) * ready, elbow=(75 - 70 * strike) * ready * (1 - 0.6 * after))
    torso(a, bend=15 * strike)
    a.advance += 0.15 * smoothstep((tl.t - hit + 8) / 10)
    b.advance -= rng.uniform(0.3, 0.55) * after
    stumble = arch((tl.t - hit) / (0.8 * FPS), 0, 1)
    torso(b, bend=-20 * stumble)
    for side in 'RL':
        arm(b, side, abduct=45 * stumble, flex=30 * stumble, elbow=40 * stumble)
    gait(b, 2 * np.pi * 2 * tl.t / FPS, stumble * 0.6)
    return (0.6 + 0.2 * rng.random()) * (a.reach + b.reach) / 2


def hug(people, tl, rng):
    start_gap, end_gap = rng.uniform(1.2, 1.5), rng.uniform(0.3, 0.4)
    approach = smoothstep((tl.t - tl.start) / (0.45 * tl.duration))
    embrace = smoothstep((tl.t - tl.start - 0.3 * tl.duration) / (0.25 * tl.duration)) * tl.envelope(8)
    walking = np.sin(np.pi * approach)
    for m, high in zip(people, (True, False)):
        m.advance += (start_gap - end_gap) / 2 * approach
        gait(m, 2 * np.pi * 1.8 * tl.speed * tl.t / FPS, 0.6 * walking)
        for side in 'RL':
            arm(m, side, flex=(95 if high else 75) * embrace, abduct=20 * embrace, elbow_out=-75 * embrace)
        head(m, turn=20 * embrace if high else -20 * embrace)
    return start_gap


ACTIONS = [wave('R'), wave('L'), clap, raise_both_arms, squat, jump, kick('R'), kick('L'), walk_in_place, punch,
           bow, turn_around, shake_hands, push, hug]
assert len(ACTIONS) == len(SYNTHETIC_CLASSES)


def bystander(m: Motion, tl: Timeline, rng: np.random.Generator) -> np.ndarray:
    """A second person who is not part of the action: standing around, or walking by behind the actor. Returns
    their place on the floor (x, z) relative to the actor."""
    if rng.random() < 0.6:
        m.heading += rng.uniform(-60, 60)
        return np.array([rng.choice([-1, 1]) * rng.uniform(0.9, 1.4), rng.uniform(-0.3, 1.0)])
    direction = rng.choice([-1, 1])
    m.heading -= 90 * direction  # faces +x when walking to the right
    speed = rng.uniform(0.9, 1.4)  # metres per second
    m.advance += speed * tl.t / FPS
    gait(m, 2 * np.pi * speed / 1.4 * tl.t / FPS + rng.uniform(0, 2 * np.pi), 1.)
    walked = speed * tl.num_frames / FPS
    return np.array([-direction * (walked / 2 + rng.uniform(-0.5, 0.5)), rng.uniform(0.8, 1.6)])


# ---------------------------------------------------------------------------------------------------------------
# Scene: place the people on the floor, turn the scene to the viewpoint, film it.
# ---------------------------------------------------------------------------------------------------------------
def place_on_floor(m: Motion, body: Body, ground_xz: np.ndarray) -> np.ndarray:
    """Joint positions ``[T, J, 3]`` in the scene (floor at y = 0): the lowest foot touches the floor unless the
    person jumps."""
    angles = m.angles.copy()
    angles[:, PELVIS, 1] += m.heading
    pos = forward_kinematics(body.offsets, angles)
    height = FOOT_CLEARANCE - pos[:, FEET, 1].min(axis=1) + m.lift
    heading = np.radians(m.heading)
    forward = np.stack([-np.sin(heading), np.zeros_like(heading), -np.cos(heading)], -1)
    root = m.advance[:, None] * forward + m.sway
    root[:, 0] += ground_xz[0]
    root[:, 1] += height
    root[:, 2] += ground_xz[1]
    return pos + root[:, None]


class Camera:
    """A pinhole camera looking at the scene along +z from ``distance`` metres, ``height`` metres above the floor,
    the scene turned by ``view`` degrees about its vertical axis, the camera tilted by ``tilt`` degrees.
    Camera coordinates are Kinect's: x to the camera's left, y up, z away from the camera."""

    def __init__(self, rng: np.random.Generator):
        self.view = rng.uniform(-60, 60)
        self.tilt = rng.uniform(-6, 6)
        self.height = rng.uniform(0.9, 1.2)
        self.distance = rng.uniform(3.0, 3.8)
        self.offset_x = rng.uniform(-0.5, 0.5)
        self.focal = rng.uniform(1000, 1100)  # pixels, about a 1080p Kinect v2 colour camera

    def to_camera(self, scene_xyz: np.ndarray) -> np.ndarray:
        turned = scene_xyz @ rotation('y', self.view).T
        moved = turned + np.array([self.offset_x, -self.height, self.distance])
        return moved @ rotation('x', self.tilt).T

    def project(self, camera_xyz: np.ndarray) -> np.ndarray:
        """Pixels ``(u, v)`` in a ``IMG_SHAPE`` image (x points to the camera's left, so u grows with -x)."""
        h, w = IMG_SHAPE
        depth = np.maximum(camera_xyz[..., 2], 0.3)
        u = w / 2 - self.focal * camera_xyz[..., 0] / depth
        v = h / 2 - self.focal * camera_xyz[..., 1] / depth
        return np.stack([u, v], -1)


def perform(label: int, num_frames: int, bodies: Sequence[Body], rng: np.random.Generator,
            with_bystander: bool) -> np.ndarray:
    """Scene positions ``[M, T, J, 3]`` of one performance of class ``label`` (``bodies[0]`` acts, ``bodies[1]``
    is the partner of an interaction or the bystander)."""
    two_person = label in TWO_PERSON_CLASSES
    num_people = 2 if two_person or with_bystander else 1
    tl = Timeline(num_frames, rng, bodies[0])
    people = [Motion(num_frames, body) for body in bodies[:num_people]]
    for m, body in zip(people, bodies):
        idle(m, tl, rng, body)
    ground = np.zeros((num_people, 2))
    distance = ACTIONS[label](people, tl, rng)  # interactions say how far apart the two people start
    if two_person:
        ground = face_each_other(people, distance)
    elif with_bystander:
        ground[1] = bystander(people[1], tl, rng)
    return np.stack([place_on_floor(m, body, xz) for m, body, xz in zip(people, bodies, ground)])


# ---------------------------------------------------------------------------------------------------------------
# Rendering the two variants.
# ---------------------------------------------------------------------------------------------------------------
def render_ntu3d(camera_xyz: np.ndarray, rng: np.random.Generator, noise: bool) -> Dict:
    keypoint = camera_xyz[:, :, NTU_JOINTS]
    if noise:  # Kinect's depth-based joints jitter by a centimetre or so
        keypoint = keypoint + rng.normal(0, rng.uniform(0.003, 0.012), keypoint.shape)
    return dict(keypoint=keypoint.astype(np.float32))


def render_coco2d(camera: Camera, camera_xyz: np.ndarray, rng: np.random.Generator, noise: bool) -> Dict:
    """Projected pixels with detector-like confidences: lower for the face seen from behind and for joints outside
    the image (clipped to its border); with ``noise`` also pixel jitter and dropped joints (zeros, score < 0.1)."""
    h, w = IMG_SHAPE
    num_people, num_frames = camera_xyz.shape[:2]
    keypoint = camera.project(camera_xyz[:, :, COCO_JOINTS])
    base = rng.uniform(0.75, 0.97, (num_people, 1, len(COCO_JOINTS)))
    score = base + rng.normal(0, 0.03, keypoint.shape[:3]) if noise else np.repeat(base, num_frames, 1)

    facing = camera_xyz[:, :, NOSE] - camera_xyz[:, :, HEAD]  # towards the camera when z < 0
    away = facing[..., 2] / np.linalg.norm(facing, axis=-1) > 0.2
    score[:, :, :5] *= np.where(away, 0.4, 1.)[..., None]

    if noise:
        keypoint = keypoint + rng.normal(0, rng.uniform(1., 3.), keypoint.shape)
    outside = (keypoint[..., 0] < 0) | (keypoint[..., 0] > w - 1) | (keypoint[..., 1] < 0) | (keypoint[..., 1] > h - 1)
    keypoint = np.clip(keypoint, 0, [w - 1, h - 1])
    score = np.where(outside, 0.2 * score, score)
    if noise:
        dropped = rng.random(score.shape) < rng.uniform(0, 0.04)
        keypoint[dropped] = 0
        score = np.where(dropped, rng.uniform(0, 0.1, score.shape), score)
    return dict(keypoint=keypoint.astype(np.float32), keypoint_score=np.clip(score, 0, 1).astype(np.float32),
                img_shape=IMG_SHAPE, original_shape=IMG_SHAPE)


def make_sample(kind: str, label: int, subject: int, partner: int, index: int, split: str, seed: int,
                noise: bool = True, with_scene: bool = False):
    """One annotation: class ``label`` performed by ``subject`` (with ``partner`` as the second person when there
    is one), drawn from its own generator. ``with_scene``: also the camera and every body joint in its coordinates
    (``[M, T, 30, 3]``), what :func:`render_video` draws: ``(annotation, (camera, camera_xyz))``."""
    rng = np.random.default_rng([seed, SPLIT_CODES[split], index])
    num_frames = int(rng.integers(MIN_FRAMES, MAX_FRAMES + 1))
    with_bystander = label not in TWO_PERSON_CLASSES and rng.random() < 0.3
    bodies = [subject_body(seed, subject), subject_body(seed, partner)]
    camera = Camera(rng)
    camera_xyz = camera.to_camera(perform(label, num_frames, bodies, rng, with_bystander))
    skeleton = render_ntu3d(camera_xyz, rng, noise) if kind == 'ntu3d' else render_coco2d(
        camera, camera_xyz, rng, noise)
    ann = dict(frame_dir=f'syn_S{subject:03d}_A{label + 1:03d}_{index:05d}', label=label, total_frames=num_frames,
               **skeleton)
    return (ann, (camera, camera_xyz)) if with_scene else ann


def _check_args(kind, num_train, num_val, seed):
    if kind not in KINDS:
        raise ValueError(f'Unknown synthetic dataset kind {kind!r}; choose one of {KINDS}')
    for name, value in (('num_train', num_train), ('num_val', num_val), ('seed', seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f'{name} must be a non-negative integer, got {value!r}')
    if num_train + num_val == 0:
        raise ValueError('num_train + num_val must be at least 1')


def make_synthetic_dataset(kind: str = 'ntu3d', num_train: int = 1200, num_val: int = 300, seed: int = 0,
                           noise: bool = True) -> Dict:
    """The dataset as PYSKL's annotation dict ``dict(split=dict(train=[...], val=[...]), annotations=[...])``.

    Classes take turns (sample i has label ``i % 15``) and each subject performs all of them in turn, so classes
    are balanced within one sample per split. ``noise=False`` leaves out joint noise and 2D dropout (exact bone
    lengths, for checks and figures).
    """
    _check_args(kind, num_train, num_val, seed)
    annotations = [make_sample(kind, *casting, int(seed), noise) for casting in _castings(num_train, num_val)]
    return _with_splits(annotations, num_train)


def _castings(num_train: int, num_val: int) -> List[tuple]:
    """``(label, subject, partner, index, split)`` of every sample, train first."""
    num_classes = len(SYNTHETIC_CLASSES)
    castings = []
    for name, count, subjects in (('train', num_train, TRAIN_SUBJECTS), ('val', num_val, VAL_SUBJECTS)):
        for index in range(count):
            turn = index // num_classes
            subject = subjects[turn % len(subjects)]
            partner = subjects[(turn + 1 + index % (len(subjects) - 1)) % len(subjects)]
            castings.append((index % num_classes, subject, partner, index, name))
    return castings


def _with_splits(annotations: List[Dict], num_train: int) -> Dict:
    names = [ann['frame_dir'] for ann in annotations]
    return dict(split=dict(train=names[:num_train], val=names[num_train:]), annotations=annotations)


# ---------------------------------------------------------------------------------------------------------------
# Files: the pickle, its label map, a preview picture, a summary line.
# ---------------------------------------------------------------------------------------------------------------
label_map_path = label_map_beside  # ``<dir>/<name>_label_map.txt``; make_synthetic.py and the tests import this name


def write_synthetic_dataset(out_path: str, kind: str = 'ntu3d', num_train: int = 1200, num_val: int = 300,
                            seed: int = 0, noise: bool = True) -> Dict:
    """Make the dataset, write it to ``out_path`` (pickle protocol 4, which PYSKL's Python 3.7 reads too) and the
    class names beside it (:func:`label_map_beside`), each atomically. Returns the dataset."""
    data = make_synthetic_dataset(kind, num_train, num_val, seed, noise)
    dump_pickle(data, out_path, protocol=4)
    write_label_map(SYNTHETIC_CLASSES, label_map_beside(out_path))
    return data


# ---------------------------------------------------------------------------------------------------------------
# Kinetics-400's compressed form
# ---------------------------------------------------------------------------------------------------------------
K400_BOX_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def compress_annotation(ann: Dict) -> Dict:
    """A ``coco2d`` annotation in K400's compressed form: one row per person and frame, sorted by frame.

    ``keypoint [N, V, 3]`` float16 (x, y, score), ``frame_inds [N]`` int16 (the frame of each row), ``box_score [N]``
    (here the person's mean joint score, standing in for the detector's box score) and ``valid`` (per box threshold,
    the number of frames with a box at least that good); ``DecompressPose`` turns it back into ``keypoint [M, T, V,
    2]`` + ``keypoint_score [M, T, V]``.
    """
    if 'keypoint_score' not in ann:
        raise ValueError(f"compress_annotation: sample {ann['frame_dir']!r} has no keypoint_score; K400's compressed "
                         'form is for 2D skeletons with scores (kind coco2d)')
    num_person, num_frames = ann['keypoint'].shape[:2]
    rows = np.concatenate([ann['keypoint'], ann['keypoint_score'][..., None]], -1).transpose(1, 0, 2, 3)
    frame_inds = np.repeat(np.arange(num_frames), num_person)  # frame-major: frame 0's persons, then frame 1's, ...
    box_score = ann['keypoint_score'].mean(-1).T.reshape(-1)
    valid = {thr: int(np.unique(frame_inds[box_score >= thr]).size) for thr in K400_BOX_THRESHOLDS}
    compressed = {k: v for k, v in ann.items() if k not in ('keypoint', 'keypoint_score')}
    compressed.update(keypoint=rows.reshape(-1, *rows.shape[2:]).astype(np.float16),
                      frame_inds=frame_inds.astype(np.int16), box_score=box_score.astype(np.float32), valid=valid)
    return compressed


def kpfiles_dir(out_path: str) -> str:
    """``<dir>/<name>_kpfiles`` beside ``<dir>/<name>.pkl``."""
    return f'{osp.splitext(out_path)[0]}_kpfiles'


def write_compressed_dataset(data: Dict, out_path: str, num_kpfiles: int = 3) -> Dict:
    """Write ``data`` (kind ``coco2d``) as K400 does: ``out_path`` holds the table of contents (each entry's
    ``raw_file``, relative to the annotation's folder, instead of its ``keypoint``) and the skeletons go to
    ``num_kpfiles`` kpfiles ``{frame_dir: {'keypoint': [N, V, 3]}}`` in :func:`kpfiles_dir`. Each file is written
    atomically; the class names go beside the annotation. Returns the table of contents."""
    if num_kpfiles < 1:
        raise ValueError(f'num_kpfiles must be at least 1, got {num_kpfiles}')
    compressed = [compress_annotation(ann) for ann in data['annotations']]
    folder = kpfiles_dir(out_path)
    parts = np.array_split(np.arange(len(compressed)), min(num_kpfiles, len(compressed)))
    toc = []
    for part, members in enumerate(parts):
        raw_file = osp.join(osp.basename(folder), f'part_{part}.pkl')
        dump_pickle({compressed[i]['frame_dir']: dict(keypoint=compressed[i]['keypoint']) for i in members},
                    osp.join(folder, f'part_{part}.pkl'), protocol=4)
        for i in members:
            entry = {k: v for k, v in compressed[i].items() if k != 'keypoint'}
            toc.append(dict(entry, raw_file=raw_file))
    content = dict(split=data['split'], annotations=toc)
    dump_pickle(content, out_path, protocol=4)
    write_label_map(SYNTHETIC_CLASSES, label_map_beside(out_path))
    return content


# ---------------------------------------------------------------------------------------------------------------
# Videos: the scene filmed as stick figures (for RGBPoseConv3D's RGB pathway)
# ---------------------------------------------------------------------------------------------------------------
# 112 pixels high at the camera's 16:9, so figures keep their proportions (the annotation's keypoints are in 1920x1080
# pixels; MMDecode rescales them to the video's size).
VIDEO_SIZE = (200, 112)  # (w, h)
_SHIRT, _TROUSERS, _SKIN, _SHOES = range(4)
# (joint, parent, part, radius in metres) of every drawn bone; the head is a disc of radius HEAD_RADIUS
_BONES = [(SPINE_MID, PELVIS, _SHIRT, .13), (SPINE_SHOULDER, SPINE_MID, _SHIRT, .14),
          (NECK, SPINE_SHOULDER, _SKIN, .05),
          (L_HIP, PELVIS, _TROUSERS, .09), (R_HIP, PELVIS, _TROUSERS, .09),
          (L_SHOULDER, SPINE_SHOULDER, _SHIRT, .07), (R_SHOULDER, SPINE_SHOULDER, _SHIRT, .07),
          (L_ELBOW, L_SHOULDER, _SHIRT, .05), (R_ELBOW, R_SHOULDER, _SHIRT, .05),
          (L_WRIST, L_ELBOW, _SHIRT, .04), (R_WRIST, R_ELBOW, _SHIRT, .04),
          (L_HAND, L_WRIST, _SKIN, .035), (R_HAND, R_WRIST, _SKIN, .035),
          (L_HAND_TIP, L_HAND, _SKIN, .025), (R_HAND_TIP, R_HAND, _SKIN, .025),
          (L_KNEE, L_HIP, _TROUSERS, .075), (R_KNEE, R_HIP, _TROUSERS, .075),
          (L_ANKLE, L_KNEE, _TROUSERS, .055), (R_ANKLE, R_KNEE, _TROUSERS, .055),
          (L_FOOT, L_ANKLE, _SHOES, .045), (R_FOOT, R_ANKLE, _SHOES, .045)]
HEAD_RADIUS = .11
_SUBPIXEL = 4  # cv2 drawing with 4 fractional bits: figures move smoothly at this small size


def _backdrop(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A room: a wall and a darker floor in random colours, with blotchy texture (float32 BGR)."""
    import cv2
    wall, floor = rng.uniform(60, 200, 3), rng.uniform(30, 140, 3)
    horizon = int(height * rng.uniform(0.55, 0.7))
    image = np.empty((height, width, 3), np.float32)
    image[:horizon], image[horizon:] = wall, floor
    blotches = cv2.resize(rng.normal(0, 18, (6, 10, 3)).astype(np.float32), (width, height),
                          interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 6, (height, width, 3)).astype(np.float32)
    return image + blotches + grain


def _draw_person(frame: np.ndarray, pixels: np.ndarray, depth: np.ndarray, colours: np.ndarray, focal: float) -> None:
    """Bones as thick anti-aliased lines (farther bones first), the head as a disc; sizes follow the depth."""
    import cv2
    scale = 1 << _SUBPIXEL
    points = np.round(pixels * scale).astype(np.int64)
    order = np.argsort([-(depth[j] + depth[p]) for j, p, _, _ in _BONES])
    for k in order:
        joint, parent, part, radius = _BONES[k]
        width = max(1, int(round(2 * radius * focal / max(depth[joint], .3))))
        cv2.line(frame, tuple(points[parent]), tuple(points[joint]), colours[part].tolist(), width, cv2.LINE_AA,
                 _SUBPIXEL)
    head = int(round(HEAD_RADIUS * focal / max(depth[HEAD], .3) * scale))
    cv2.circle(frame, tuple(points[HEAD]), max(head, scale), colours[_SKIN].tolist(), -1, cv2.LINE_AA, _SUBPIXEL)


def render_video(camera: Camera, camera_xyz: np.ndarray, rng: np.random.Generator,
                 size: Sequence[int] = VIDEO_SIZE) -> np.ndarray:
    """The people of a scene (``camera_xyz [M, T, 30, 3]``, from ``make_sample(..., with_scene=True)``) as stick
    figures in clothes of random colours over a textured room, with flickering light and sensor noise: BGR uint8
    ``[T, h, w, 3]`` frames of the whole 1920x1080 view at ``size`` ``(w, h)``."""
    width, height = size
    to_video = np.array([width / IMG_SHAPE[1], height / IMG_SHAPE[0]])
    pixels = camera.project(camera_xyz) * to_video
    depth = camera_xyz[..., 2]
    focal = camera.focal * to_video.mean()
    backdrop = _backdrop(rng, width, height)
    colours = rng.uniform(20, 235, (camera_xyz.shape[0], 4, 3))
    colours[:, _SKIN] = rng.uniform(0.3, 1, (camera_xyz.shape[0], 1)) * np.array([150, 180, 230])
    light = 1 + 0.04 * np.sin(2 * np.pi * rng.uniform(0.2, 1) * np.arange(camera_xyz.shape[1]) / FPS)
    noise = rng.uniform(2, 5)
    frames = np.empty((camera_xyz.shape[1], height, width, 3), np.uint8)
    for t in range(camera_xyz.shape[1]):
        frame = backdrop.copy()
        for person in np.argsort(-depth[:, t].mean(-1)):  # the farther person first
            _draw_person(frame, pixels[person, t], depth[person, t], colours[person], focal)
        frame *= light[t]
        frame += rng.normal(0, noise, frame.shape).astype(np.float32)
        np.clip(frame, 0, 255, out=frame)
        frames[t] = frame
    return frames


def _sample_with_video(kind: str, casting: tuple, seed: int, noise: bool, video_dir: str, size) -> Dict:
    """One sample's annotation; its video ``<video_dir>/<frame_dir>.mp4`` is written unless it exists (the video's
    randomness has its own generator, so the annotation is the one :func:`make_synthetic_dataset` makes)."""
    from pyskl.utils.video import VideoWriter
    ann, (camera, camera_xyz) = make_sample(kind, *casting, seed, noise, with_scene=True)
    path = osp.join(video_dir, ann['frame_dir'] + '.mp4')
    if not osp.exists(path):
        label, _, _, index, split = casting
        frames = render_video(camera, camera_xyz, np.random.default_rng([seed, SPLIT_CODES[split], index, 1]), size)
        with VideoWriter(path, FPS) as writer:
            for frame in frames:
                writer.write(frame)
    return ann


def write_synthetic_videos(out_path: str, video_dir: str, kind: str = 'coco2d', num_train: int = 1200,
                           num_val: int = 300, seed: int = 0, noise: bool = True,
                           size: Sequence[int] = VIDEO_SIZE, workers: int = 1, progress: bool = False) -> Dict:
    """:func:`write_synthetic_dataset` plus one video per sample, ``<video_dir>/<frame_dir>.mp4`` (mp4v, 30 fps,
    ``size`` ``(w, h)``; see :func:`render_video`): PYSKL's RGBPose layout, read with ``data_prefix=video_dir``.
    Videos that exist are kept (each is written whole or not at all), so an interrupted run resumes. The annotation
    is written last, with the same bytes as without videos."""
    _check_args(kind, num_train, num_val, seed)
    if kind != 'coco2d':
        raise ValueError(f"videos are rendered for kind 'coco2d' (2D skeletons in the video's pixels), not {kind!r}")
    size = tuple(int(side) for side in size)
    if len(size) != 2 or min(size) < 16:
        raise ValueError(f'the video size must be (w, h) of at least 16 pixels each, got {size}')
    castings = _castings(num_train, num_val)
    job = functools.partial(_sample_with_video, kind, seed=int(seed), noise=noise, video_dir=video_dir, size=size)
    from tqdm import tqdm
    with tqdm(total=len(castings), unit='video', disable=not progress, dynamic_ncols=True) as bar:
        if workers > 1:
            from concurrent.futures import ProcessPoolExecutor
            with ProcessPoolExecutor(workers) as pool:
                annotations = []
                for ann in pool.map(job, castings, chunksize=8):
                    annotations.append(ann)
                    bar.update()
        else:
            annotations = []
            for casting in castings:
                annotations.append(job(casting))
                bar.update()
    data = _with_splits(annotations, num_train)
    dump_pickle(data, out_path, protocol=4)
    write_label_map(SYNTHETIC_CLASSES, label_map_beside(out_path))
    return data


def dataset_summary(data: Dict) -> str:
    anns = data['annotations']
    keypoint = anns[0]['keypoint']
    frames = [a['total_frames'] for a in anns]
    two = sum(a['keypoint'].shape[0] == 2 for a in anns)
    counts = ', '.join(f'{name} {len(names)}' for name, names in data['split'].items())
    return (f'{len(anns)} samples ({counts}), {len(SYNTHETIC_CLASSES)} classes, keypoint [M, T, '
            f'{keypoint.shape[2]}, {keypoint.shape[3]}] {keypoint.dtype}, T {min(frames)}-{max(frames)}, '
            f'M=2 in {two} samples' + (', with keypoint_score and img_shape' if 'keypoint_score' in anns[0] else ''))


def _preview_edges(num_joints: int) -> List:
    return list(get_layout('nturgb+d' if num_joints == 25 else 'coco').inward)


def _image_xy(ann: Dict) -> np.ndarray:
    """Coordinates as seen by the camera with y up: 3D Kinect x points left, 2D pixel v points down."""
    keypoint = ann['keypoint'].astype(np.float64)
    if keypoint.shape[-1] == 3:
        return np.stack([-keypoint[..., 0], keypoint[..., 1]], -1)
    return np.stack([keypoint[..., 0], -keypoint[..., 1]], -1)


def save_preview(data: Dict, out_path: str, snapshots: int = 6) -> None:
    """A PNG with one sample per class (the first of each), as ``snapshots`` skeletons spread over its length
    (actor blue, second person orange, later frames darker)."""
    from matplotlib.figure import Figure  # a bare Figure draws with Agg, no display needed

    firsts = {}
    for ann in data['annotations']:
        firsts.setdefault(ann['label'], ann)
    labels = sorted(firsts)
    cols = 3
    rows = -(-len(labels) // cols)
    fig = Figure(figsize=(6 * cols, 2.2 * rows))
    for k, label in enumerate(labels):
        ann = firsts[label]
        ax = fig.add_subplot(rows, cols, k + 1)
        _draw_filmstrip(ax, ann, snapshots)
        ax.set_title(f'{label}: {SYNTHETIC_CLASSES[label]}  ({ann["frame_dir"]}, T={ann["total_frames"]})',
                     fontsize=8)
        ax.set_aspect('equal')
        ax.axis('off')
    fig.tight_layout()
    with atomic_write(out_path, 'wb') as f:
        fig.savefig(f, format='png', dpi=80)


def _draw_filmstrip(ax, ann: Dict, snapshots: int) -> None:
    """Snapshots left to right, each shifted to start where the previous one ended."""
    from matplotlib.collections import LineCollection

    xy = _image_xy(ann)
    valid = np.abs(ann['keypoint']).sum(-1) > 0
    edges = np.array(_preview_edges(xy.shape[2]))
    gap = 0.1 * np.ptp(xy[valid][:, 1])
    segments, colors, cursor = [], [], 0.
    for i, t in enumerate(np.linspace(0, ann['total_frames'] - 1, snapshots).round().astype(int)):
        if not valid[:, t].any():
            continue
        left, right = xy[:, t][valid[:, t]][:, 0].min(), xy[:, t][valid[:, t]][:, 0].max()
        shade = 0.35 + 0.65 * i / max(1, snapshots - 1)
        for person in range(xy.shape[0]):
            drawn = valid[person, t, edges].all(1)
            segments.append(xy[person, t][edges[drawn]] + [cursor - left, 0])
            colors += [(0.1, 0.3, 0.9, shade) if person == 0 else (0.95, 0.5, 0.1, shade)] * int(drawn.sum())
        cursor += right - left + gap
    ax.add_collection(LineCollection(np.concatenate(segments), colors=colors, linewidths=1.2))
    ax.autoscale_view()
