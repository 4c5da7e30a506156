"""Rendered drives: perspective geometry, speed profiles, appearance, and `mf synth sync`."""

import json

import numpy as np
import pytest
from mf_sync.appearance import Appearance, Lens
from mf_sync.drives import DriveSpec, Leg, RouteSpec, drive_truth, plan_drives, speed_profile
from mf_sync.render import ANCHOR, FIELD_OF_VIEW, SUPERSAMPLE, Pose, _rotation, _trace, render
from mf_sync.routes import GROUND_PERIOD, PIXELS_PER_METRE, VIEW_DISTANCE, WALL_DISTANCE, WALL_HEIGHT, Route, make_route
from mf_sync.truth import Truth

from mfcore.kit import read_video
from mfcore.testing import assert_clean_error


@pytest.fixture(scope="module")
def route():
    return make_route("t", 120.0, seed=3, pool="held-out")


def test_horizon_splits_road_and_sky(route):
    frame, depth = render(route, Pose(10.0, x=0.0, yaw=0.0, pitch=0.0), 96, 64)
    assert frame.shape == (64, 96, 3) and frame.dtype == np.float32
    centre = 48
    # Looking straight down the road: sky above the vanishing point, road below; depth grows toward it.
    assert depth[2, centre] > 1e3 and depth[-1, centre] < 5.0
    assert depth[40, centre] < depth[34, centre]
    sky = frame[2, centre]
    assert sky[2] > sky[0]  # blue


def _reference_trace(pose, width, height):
    """Float64 NumPy ray casting: every pixel's ray against both façade planes, the ground and the sky."""
    focal = 0.5 * width / np.tan(np.radians(FIELD_OF_VIEW) / 2)
    u = (np.arange(width) + 0.5 - width / 2) / focal
    v = (height / 2 - np.arange(height) - 0.5) / focal
    rays = np.stack([np.broadcast_to(u, (height, width)), np.broadcast_to(v[:, None], (height, width)),
                     np.ones((height, width))])
    dx, dy, dz = np.einsum("ij,jhw->ihw", _rotation(pose).astype(np.float64), rays)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_wall = np.where(dx < 0, -WALL_DISTANCE - pose.x, WALL_DISTANCE - pose.x) / dx
        t_ground = np.where(dy < 0, -pose.y / dy, np.inf)
    t_wall = np.where(np.isfinite(t_wall) & (t_wall > 0), t_wall, np.inf)
    on_ground = t_ground < t_wall
    on_wall = ~on_ground & np.isfinite(t_wall) & (pose.y + t_wall * dy <= WALL_HEIGHT)
    kind = np.where(on_ground, 1, np.where(on_wall, np.where(dx < 0, 2, 3), 0))
    depth = np.where(on_ground, t_ground, np.where(on_wall, t_wall, np.inf))
    along = np.clip(np.where(np.isfinite(depth), depth * dz, VIEW_DISTANCE), 0, VIEW_DISTANCE - 1)
    wall_v = (WALL_HEIGHT - np.clip(pose.y + t_wall * dy, 0, WALL_HEIGHT)) * PIXELS_PER_METRE
    ground_u = (np.clip(pose.x + t_ground * dx, -WALL_DISTANCE, WALL_DISTANCE) + WALL_DISTANCE) * PIXELS_PER_METRE
    ground_v = ((pose.position + along) % GROUND_PERIOD) * PIXELS_PER_METRE
    return kind, depth, (pose.position + along) * PIXELS_PER_METRE, wall_v, ground_u, ground_v


@pytest.mark.parametrize("pose", [Pose(10.0, x=0.0), Pose(30.0, 1.8, 1.3, 0.05, -0.02, 0.01),
                                  Pose(55.5, -2.5, 1.6, -0.4, 0.05, -0.03), Pose(5.0, 6.0, 0.4, 0.9, 0.1, 0.2)])
def test_compiled_ray_casting_matches_a_float64_reference(pose):
    width, height = 96, 64
    focal = 0.5 * width / np.tan(np.radians(FIELD_OF_VIEW) / 2)
    maps, kind, depth, _ = _trace(_rotation(pose), width, height, focal, pose.x, pose.y, pose.position)
    ref_kind, ref_depth, wall_u, wall_v, ground_u, ground_v = _reference_trace(pose, width, height)
    # A ray grazing an edge may fall either side in float32; all but a handful of pixels agree.
    agree = kind == ref_kind
    assert agree.mean() > 0.998 and len(np.unique(ref_kind)) >= 2
    np.testing.assert_allclose(depth[agree], np.minimum(ref_depth, 10 * VIEW_DISTANCE)[agree], rtol=1e-4)
    wall, ground = agree & (kind >= 2), agree & (kind == 1)
    for got, want, where in ((maps[0], wall_u, wall), (maps[1], wall_v, wall), (maps[2], ground_u, ground),
                             (maps[3], ground_v, ground)):
        np.testing.assert_allclose(got[where], want[where], atol=0.02)  # texture pixels


def test_frames_traced_from_an_anchor_match_frames_traced_from_the_route_start(route):
    """The anchored window (for long routes) changes no pixel: the whole texture remapped at the absolute
    position gives the same frame."""
    import cv2

    pose = Pose(ANCHOR + 17.3, x=0.5, yaw=0.1)
    width, height = 96, 64
    sw, sh = width * SUPERSAMPLE, height * SUPERSAMPLE
    focal = 0.5 * sw / np.tan(np.radians(FIELD_OF_VIEW) / 2)
    maps, kind, _, _ = _trace(_rotation(pose), sw, sh, focal, pose.x, pose.y, pose.position)
    left = cv2.remap(route.left, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    want = cv2.resize(np.where((kind == 2)[..., None], left, 0), (width, height), interpolation=cv2.INTER_AREA)
    frame, _ = render(route, pose, width, height)
    seen = cv2.resize((kind == 2).astype(np.float32), (width, height), interpolation=cv2.INTER_AREA) == 1
    assert seen.mean() > 0.1
    np.testing.assert_allclose(frame[seen], want[seen], atol=2e-3)


def test_routes_longer_than_a_remap_can_index_render():
    """3 km of façade is 40,000 texture columns, beyond cv2.remap's 32,767; a frame far along the route is the
    frame of the same view on the route cut ``k`` anchors later."""
    assert (ANCHOR * PIXELS_PER_METRE) % 1 == 0 and ANCHOR % GROUND_PERIOD == 0
    columns = round((3000 + VIEW_DISTANCE) * PIXELS_PER_METRE)
    texture = np.broadcast_to((np.arange(columns) % 97 / 97.0)[None, :, None], (int(WALL_HEIGHT * PIXELS_PER_METRE),
                              columns, 3)).astype(np.float32)
    ground = np.full((64, 64, 3), 0.3, np.float32)
    long_route = Route("long", 3000.0, texture, texture[::-1].copy(), ground)
    cut = 16 * ANCHOR
    first = round(cut * PIXELS_PER_METRE)
    short = Route("cut", 3000.0 - cut, texture[:, first:], texture[::-1, first:].copy(), ground)
    far, _ = render(long_route, Pose(cut + 20.5), 64, 48)
    near, _ = render(short, Pose(20.5), 64, 48)
    np.testing.assert_array_equal(far, near)


def test_moving_forward_brings_the_facade_closer(route):
    """Texture at the vanishing point reaches the border as the camera advances: true perspective."""
    near, _ = render(route, Pose(30.0, x=0.0), 96, 64)
    same, _ = render(route, Pose(30.0, x=0.0), 96, 64)
    ahead, _ = render(route, Pose(31.0, x=0.0), 96, 64)
    np.testing.assert_array_equal(near, same)
    border_change = np.abs(ahead[20:44, :10] - near[20:44, :10]).mean()
    centre_change = np.abs(ahead[28:36, 44:52] - near[28:36, 44:52]).mean()
    assert border_change > 2 * centre_change


def test_speed_profile_stops_and_never_reverses():
    rng = np.random.default_rng(0)
    positions = speed_profile(rng, 300.0, 30.0, stops=2)
    steps = np.diff(positions)
    assert positions[0] == 0 and positions[-1] == pytest.approx(300.0)
    assert (steps >= 0).all() and steps.max() <= 16.5 / 30 + 1e-9
    standing = steps < 1e-9
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, standing.astype(int), 0])))[::2]
    assert (runs >= 2 * 30 - 1).sum() == 2  # two stops of 2-8 s


def test_plans_overlap_partly_and_detour():
    rng = np.random.default_rng(1)
    routes = [RouteSpec("a", 400, 1), RouteSpec("b", 400, 2)]
    plans = plan_drives(routes, 4, rng, detours=1.0)
    assert len(plans) == 8
    for plan in plans:
        assert len(plan.legs) == 3 and plan.legs[1].route != plan.legs[0].route
        assert all(leg.end > leg.start for leg in plan.legs)
    spec = DriveSpec("x", (Leg("a", 10, 60),), Appearance.plain(), seed=0)
    names, positions = drive_truth(spec, 30.0, np.random.default_rng(0))
    assert set(names) == {"a"} and positions[0] == 10 and positions[-1] == pytest.approx(60)


def test_appearance_changes_colour_not_geometry(route):
    winter = Appearance(season="winter", gain=0.8, visibility=60.0, noise=0.0)
    plain, depth = render(route, Pose(20.0), 96, 64)
    styled, _ = render(winter.restyle(route), Pose(20.0), 96, 64)
    seen = Lens(winter, 96, 64, 30.0, np.random.default_rng(0))(styled, depth, 0)
    assert np.abs(seen - plain).mean() > 0.03
    # Edges stay where they are: the gradient maps correlate strongly.
    grad = lambda im: np.abs(np.diff(im.mean(axis=2), axis=1))  # noqa: E731
    assert np.corrcoef(grad(seen).ravel(), grad(plain).ravel())[0, 1] > 0.5


def test_synth_sync_writes_drives_with_truth(mf, tmp_path):
    out = tmp_path / "drives"
    result = mf("synth", "sync", "-o", out, "--routes", "2", "--drives", "2", "--length", "100", "--size", "64x48",
                "--fps", "10", "--pool", "held-out", "--json")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "drives.json").read_text())
    assert len(manifest["drives"]) == 4 and manifest["width"] == 64
    for drive in manifest["drives"]:
        frames = read_video(out / f"{drive['name']}.mp4")
        truth = Truth.read(out / f"{drive['name']}.truth.csv")
        assert frames.shape[1:] == (48, 64, 3) and len(frames) == len(truth) == drive["frames"]
    assert_clean_error(mf("synth", "sync", "-o", out, "--routes", "1"), "already holds drives")
    assert_clean_error(mf("synth", "sync", "-o", tmp_path / "x", "--size", "65x48"), "must be even")
    assert_clean_error(mf("synth", "sync", "-o", tmp_path / "y", "--pool", tmp_path / "nope"), "not train")
