"""Where a build stands in the world: floor or wall, which way a wall faces, its origin, and the
game version that sets the build height; the world's edge. Every schematic writer and the renders'
coordinates take a :class:`Placement`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pixeletica.engine import defaults
from pixeletica.errors import InvalidInput

ORIENTATIONS = ("floor", "wall")
FACINGS = ("south", "north", "east", "west")
#: Data version of every Java release since the flattening (the ``version.json`` in the client jar).
DATA_VERSIONS = {
    "1.13": 1519, "1.13.1": 1628, "1.13.2": 1631,
    "1.14": 1952, "1.14.1": 1957, "1.14.2": 1963, "1.14.3": 1968, "1.14.4": 1976,
    "1.15": 2225, "1.15.1": 2227, "1.15.2": 2230,
    "1.16": 2566, "1.16.1": 2567, "1.16.2": 2578, "1.16.3": 2580, "1.16.4": 2584, "1.16.5": 2586,
    "1.17": 2724, "1.17.1": 2730,
    "1.18": 2860, "1.18.1": 2865, "1.18.2": 2975,
    "1.19": 3105, "1.19.1": 3117, "1.19.2": 3120, "1.19.3": 3218, "1.19.4": 3337,
    "1.20": 3463, "1.20.1": 3465, "1.20.2": 3578, "1.20.3": 3698, "1.20.4": 3700, "1.20.5": 3837, "1.20.6": 3839,
    "1.21": 3953, "1.21.1": 3955, "1.21.2": 4080, "1.21.3": 4082, "1.21.4": 4189,
}  # fmt: skip
#: Blocks can be placed up to this far from 0 along x and z (the world border's reach).
WORLD_LIMIT = 29_999_983
#: Lowest and highest buildable y since 1.18 (the caves-and-cliffs world height), and before it.
BUILD_HEIGHT = (-64, 319)
BUILD_HEIGHT_BEFORE_1_18 = (0, 255)


def check_game_version(version: object) -> None:
    """Refuse a game version that is not a Java release Pixeletica knows (one of :data:`DATA_VERSIONS`)."""
    releases = f"a Java release from 1.13 to {list(DATA_VERSIONS)[-1]} like {defaults.DEFAULT_GAME_VERSION!r}"
    InvalidInput.unless_one_of("game_version", version, tuple(DATA_VERSIONS), releases)


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where and how a build stands in the world, and for which game version."""

    orientation: str = defaults.DEFAULT_ORIENTATION
    facing: str = defaults.DEFAULT_FACING  # which way a wall's picture faces; ignored for floor
    origin_x: int = defaults.DEFAULT_ORIGIN_X
    origin_y: int = defaults.DEFAULT_ORIGIN_Y
    origin_z: int = defaults.DEFAULT_ORIGIN_Z
    game_version: str = defaults.DEFAULT_GAME_VERSION
    name: str = "pixeletica"
    author: str = defaults.DEFAULT_AUTHOR
    description: str = ""

    def validate(self) -> None:
        InvalidInput.unless_one_of("orientation", self.orientation, ORIENTATIONS, " or ".join(ORIENTATIONS))
        InvalidInput.unless_one_of("facing", self.facing, FACINGS)
        check_game_version(self.game_version)
        for axis in ("origin_x", "origin_y", "origin_z"):
            value = getattr(self, axis)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(f"{axis} must be a whole number, got {value!r}", field=axis)
        for axis in ("origin_x", "origin_z"):
            value = getattr(self, axis)
            if not -WORLD_LIMIT <= value <= WORLD_LIMIT:
                raise InvalidInput(
                    f"{axis} {value} is outside the world: blocks can be placed from {-WORLD_LIMIT:,} "
                    f"to {WORLD_LIMIT:,}",
                    field=axis,
                )
        low, high = self.build_height
        if not low <= self.origin_y <= high:
            raise InvalidInput(
                f"origin_y {self.origin_y} is outside the build height of Minecraft {self.game_version}: "
                f"y runs from {low} to {high}",
                field="origin_y",
            )

    @property
    def data_version(self) -> int:
        return DATA_VERSIONS[self.game_version]

    @property
    def build_height(self) -> tuple[int, int]:
        """The lowest and highest y a block can be placed at in the chosen game version."""
        return BUILD_HEIGHT if self.data_version >= DATA_VERSIONS["1.18"] else BUILD_HEIGHT_BEFORE_1_18

    def check_fits(self, width: int, height: int) -> None:
        """Refuse a build of ``width`` x ``height`` blocks that would reach outside the world from this origin."""
        self.validate()
        if self.orientation == "wall":
            low, high = self.build_height
            bottom = self.origin_y - (height - 1)
            if bottom < low:
                raise InvalidInput(
                    f"a wall {height} blocks tall with its top row at y {self.origin_y} would reach down to y "
                    f"{bottom}, below the world's bottom (y {low}); at most {self.origin_y - low + 1} blocks fit "
                    f"under y {self.origin_y} ({high - low + 1} in all): raise origin_y, make the picture "
                    "smaller, or build it as a floor"
                )
        for axis, (low_end, high_end) in self.extent(width, height).items():
            if low_end < -WORLD_LIMIT or high_end > WORLD_LIMIT:
                raise InvalidInput(
                    f"the build would reach {axis} {high_end if high_end > WORLD_LIMIT else low_end}, past the "
                    f"world's edge (±{WORLD_LIMIT:,}): move origin_{axis} closer to 0"
                )

    def extent(self, width: int, height: int) -> dict[str, tuple[int, int]]:
        """The lowest and highest world x and z a build of ``width`` x ``height`` blocks occupies."""
        x, z, across = self.origin_x, self.origin_z, width - 1
        if self.orientation == "floor":
            return {"x": (x, x + across), "z": (z, z + height - 1)}
        return {  # a wall: one block deep, its columns along the axis its facing says
            "south": {"x": (x, x + across), "z": (z, z)},
            "north": {"x": (x - across, x), "z": (z, z)},
            "east": {"x": (x, x), "z": (z - across, z)},
            "west": {"x": (x, x), "z": (z, z + across)},
        }[self.facing]
