"""fit: which placements are cut from their master, and which need it extended first.

A cover crop keeps the whole master along one axis and cuts the other. ``auto`` extends
the master (outpaint) for a placement when that crop would cut through the subject's box
(``focal.subject_box``) or throw away more than ``MAX_CROP_LOSS`` of the picture, and
crops otherwise. ``outpaint`` extends for every placement of another shape, ``crop``
never does, and ``pad`` sets the whole master on its own blurred edges in compose (no
model). One outpaint request serves every placement of a master that needs one: the
master is extended to cover the most extreme of their shapes, and each is then cut
from it (docs/brief-format.md, *fit*).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image

from adloom.aspects import kept
from adloom.creative import focal
from adloom.model import Fit, Placement, Settings, Shape

# More than half of a master thrown away is most of the picture the brief paid for: a
# 728x90 leaderboard cut from a 21:9 master keeps 29% of it, a 320x50 one 27%. The crop
# bound that groups placements into aspect families (aspects.CROP_BOUND) keeps a share
# of 0.8 of the best ratio's, so ordinary shapes are never extended for loss alone.
MAX_CROP_LOSS = 0.5
# A crop window that misses the subject's box by less than this share of the cut side
# keeps it whole: the box is found on a reduced, blurred copy and is a little generous.
_SLACK = 0.02


def resolve(settings: Settings, placement: Placement) -> Fit:
    """The placement's own fit, else the campaign's."""
    return placement.fit or settings.fit


def cut(image: Image.Image, width: int, height: int) -> bool:
    """Whether cutting ``image`` to ``width`` x ``height`` loses its subject or too much."""
    if 1 - kept(image.width / image.height, width / height) > MAX_CROP_LOSS:
        return True
    subject = focal.subject_box(image)
    if subject is None:
        return False
    box = focal.crop_box(image, width, height)
    slack_x, slack_y = _SLACK * image.width, _SLACK * image.height
    return (
        subject[0] < box[0] - slack_x
        or subject[2] > box[2] + slack_x
        or subject[1] < box[1] - slack_y
        or subject[3] > box[3] + slack_y
    )


def to_extend(image: Image.Image, shapes: Sequence[Shape]) -> tuple[Shape, ...]:
    """The shapes that are composed from ``image`` extended, by their fit."""
    aspect = image.width / image.height

    def extend(shape: Shape) -> bool:
        if math.isclose(shape.width / shape.height, aspect, rel_tol=1e-3):
            return False  # the same shape: nothing is cut
        if shape.fit == "outpaint":
            return True
        return shape.fit == "auto" and cut(image, shape.width, shape.height)

    return tuple(s for s in shapes if extend(s))


def foreseen(shapes: Sequence[Shape], width: int, height: int) -> tuple[bool, bool]:
    """Before a master is made (``adloom plan``): whether it will surely be extended, and
    whether it may be (``auto`` decides on its subject, seen only once it exists)."""
    aspect = width / height
    other = [s for s in shapes if not math.isclose(s.width / s.height, aspect, rel_tol=1e-3)]
    lossy = [s for s in other if 1 - kept(aspect, s.width / s.height) > MAX_CROP_LOSS]
    surely = any(s.fit == "outpaint" for s in other) or any(s.fit == "auto" for s in lossy)
    return surely, surely or any(s.fit == "auto" for s in other)
