"""A second synthesiser, written separately from :mod:`mf_reflect.synthesis`, for validation only.

No training run uses it: its job is to tell generalisation from a fit to the
training generator, so it shares no code with that generator beyond the photo
files and differs wherever a real capture could:

* **Physics in Stokes vectors**: each layer's unpolarised radiance becomes a
  Stokes vector through the pane's Mueller matrix in the s/p frame (Fresnel
  amplitudes with their own sign convention, the pane's two surfaces summed as
  a geometric series), rotated into the camera frame and measured through an
  ideal linear polariser, I(φ) = (S0 + S1 cos 2φ + S2 sin 2φ) / 2.
* **Geometry of a whole frame**: a pane seen through a lens with a 25–35°
  horizontal field of view, tilted so the angle of incidence at the centre is
  25–60°. A flat pane: the angle changes by about ±15° across the frame and
  the plane of incidence turns with it. A curved one (a shop or car window): a
  glass cylinder, convex or concave, met by ray tracing, whose normals turn
  with the surface as well, which no flat-pane model explains. Non-square
  frames.
* **Scenes**: crops of the held-out photographs and the moon, resized rather
  than cut at the training patch size, linearised with the exact sRGB curve
  (not a power law); the reflected scene is out of focus (Gaussian blur) and,
  as the camera sees it, on average 1.5–3 times as bright as the transmitted
  one (a lit room's window at dusk); glass of index 1.47–1.56.
* **Sensor**: a 16-bit linear raw frame whose brightest pixel lies at a chosen
  fraction of full scale, with shot noise (15,000 electrons at full scale) and
  read noise, and no automatic exposure.

The truth is the same observable pair as everywhere in mf: the reflection's
share at its strongest polariser angle, R = R'_s L_R / 2, and the
transmission's share at the weakest, T = T'_p L_T / 2.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from mfcore.kit import photo

#: Photographs of this generator: the held-out pool plus one that no pool uses.
SCENES = ("chelsea", "sklearn:flower.jpg", "camera", "clock", "moon")
#: Polariser angles (degrees) of its captures.
DEGREES = (0.0, 45.0, 90.0)
#: Full-well capacity (electrons at full scale) and read noise (16-bit digital numbers).
ELECTRONS, READ_DN = 15_000.0, 3.0
#: Kinds of glass in its captures.
GLASS_KINDS = ("flat", "curved")
#: Largest angle of incidence on a curved pane: views more grazing than this are drawn again.
GRAZING = np.radians(80.0)
#: Range of a curved pane's radius, in units of its distance from the camera: below about 0.5 the angles of
#: polarisation no longer look like one flat pane's (:data:`mf_reflect.baselines.pane.AGREEMENT`).
RADIUS = (0.15, 4.0)


def srgb_to_linear(encoded: np.ndarray) -> np.ndarray:
    """The sRGB transfer curve inverted (IEC 61966-2-1)."""
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)


def _scene(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A linear (H, W, 3) scene: a random crop of a photograph, 1–2 times the frame, resized to it."""
    image = photo(str(rng.choice(SCENES)))
    zoom = rng.uniform(1.0, 2.0)
    ch, cw = min(image.shape[0], int(height * zoom)), min(image.shape[1], int(width * zoom))
    y, x = int(rng.integers(0, image.shape[0] - ch + 1)), int(rng.integers(0, image.shape[1] - cw + 1))
    crop = cv2.resize(np.ascontiguousarray(image[y:y + ch, x:x + cw]), (width, height), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return srgb_to_linear(crop.astype(np.float64))


def fresnel_power(cos_i: np.ndarray, n: float) -> tuple[np.ndarray, np.ndarray]:
    """One surface's power reflectances (s, p) from the cosine of the angle of incidence."""
    cos_t = np.sqrt(1.0 - (1.0 - cos_i**2) / n**2)
    amplitude_s = (cos_i - n * cos_t) / (cos_i + n * cos_t)
    amplitude_p = (cos_t - n * cos_i) / (cos_t + n * cos_i)
    return amplitude_s**2, amplitude_p**2


def pane(r: np.ndarray) -> np.ndarray:
    """Two surfaces, light bouncing between them: R + (1 − R)² R Σ (R²)^k."""
    return r + (1 - r) ** 2 * r / (1 - r**2)


def measure(reflected: np.ndarray, transmitted: np.ndarray, rs: np.ndarray, rp: np.ndarray, psi: np.ndarray,
            degrees: tuple[float, ...]) -> np.ndarray:
    """Images (N, ...) behind ideal polarisers at ``degrees`` of both layers' Stokes vectors through the pane.

    In the s/p frame the pane's Mueller matrices map unpolarised radiance L to
    S = (L (a + b) / 2, L (a − b) / 2, 0, 0) with (a, b) = (R_s, R_p) for the
    reflection and (1 − R_s, 1 − R_p) for the transmission; a rotation by ψ (the
    s direction in the image) brings S1 into (S1 cos 2ψ, S1 sin 2ψ).
    """
    s0 = 0.5 * (rs + rp) * reflected + 0.5 * ((1 - rs) + (1 - rp)) * transmitted
    q_local = 0.5 * (rs - rp) * reflected + 0.5 * ((1 - rs) - (1 - rp)) * transmitted
    s1, s2 = q_local * np.cos(2 * psi), q_local * np.sin(2 * psi)
    return np.stack([(s0 + s1 * np.cos(2 * a) + s2 * np.sin(2 * a)) / 2 for a in np.radians(degrees)])


def _tilted_normal(rng: np.random.Generator) -> np.ndarray:
    """The pane's unit normal where the optical axis meets it: 25–60° from the axis, any azimuth, facing the camera."""
    centre_aoi, azimuth = np.radians(rng.uniform(25.0, 60.0)), rng.uniform(0, 2 * np.pi)
    return -np.array([np.sin(centre_aoi) * np.cos(azimuth), np.sin(centre_aoi) * np.sin(azimuth),
                      np.cos(centre_aoi)])


def cylinder_normals(rays: np.ndarray, normal: np.ndarray, radius: float, axis_turn: float,
                     convex: bool) -> np.ndarray:
    """Unit normals (H, W, 3) where unit ``rays`` from the camera meet a glass cylinder.

    The cylinder touches the point (0, 0, 1) of the optical axis with the
    outward ``normal`` (facing the camera); its axis lies in the tangent plane
    there, turned by ``axis_turn``. A convex pane (a car's side window seen from
    outside) is met where a ray enters the cylinder, a concave one (the same
    window from inside) where it leaves; rays that would miss it graze it.
    """
    point = np.array([0.0, 0.0, 1.0])
    centre = point - radius * normal if convex else point + radius * normal
    e1 = np.cross(normal, [1.0, 0.0, 0.0] if abs(normal[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    axis = np.cos(axis_turn) * e1 + np.sin(axis_turn) * np.cross(normal, e1)
    across = rays - (rays @ axis)[..., None] * axis  # the rays and the centre projected across the axis
    centre_across = centre - (centre @ axis) * axis
    a, b = (across * across).sum(-1), (across @ centre_across)
    c = centre_across @ centre_across - radius**2
    root = np.sqrt(np.maximum(b * b - a * c, 0.0))
    t = (b - root if convex else b + root) / np.maximum(a, 1e-12)
    offset = t[..., None] * rays - centre
    outward = offset - (offset @ axis)[..., None] * axis
    outward /= np.maximum(np.linalg.norm(outward, axis=-1, keepdims=True), 1e-12)
    return outward if convex else -outward  # the side that faces the camera


def scene_pair(rng: np.random.Generator, height: int = 192, width: int = 256, glass: str = "flat") -> dict[str, Any]:
    """Radiance images of one independent capture: Stokes components per angle, and the true layers.

    ``glass`` is ``flat`` (one pane in perspective) or ``curved`` (a cylinder of
    radius :data:`RADIUS` times its distance from the camera, log-uniform,
    convex or concave, whose axis may take any direction across the view:
    from a gently bowed shop window to a car's rear window seen up close).
    """
    if glass not in GLASS_KINDS:
        raise ValueError(f"glass must be one of {GLASS_KINDS}, got {glass!r}")
    transmitted, reflected = _scene(rng, height, width), _scene(rng, height, width)
    reflected = cv2.GaussianBlur(reflected, (0, 0), rng.uniform(0.5, 2.5))
    n = rng.uniform(1.47, 1.56)
    fov = np.radians(rng.uniform(25.0, 35.0))
    focal = width / 2 / np.tan(fov / 2)
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    rays = np.stack([u - (width - 1) / 2, v - (height - 1) / 2, np.full(u.shape, focal)], axis=-1)
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    for _ in range(100):  # a curved pane is drawn again until no ray meets it beyond GRAZING
        normal = _tilted_normal(rng)
        normals = np.broadcast_to(normal, rays.shape)
        if glass == "curved":
            radius = float(np.exp(rng.uniform(*np.log(RADIUS))))
            normals = cylinder_normals(rays, normal, radius, rng.uniform(0, np.pi), rng.random() < 0.5)
        cos_i = np.minimum(np.abs((rays * normals).sum(-1)), 1.0)
        if glass == "flat" or cos_i.min() >= np.cos(GRAZING):
            break
    rs, rp = (pane(r)[..., None] for r in fresnel_power(cos_i, n))
    # the reflection as seen (at its strongest angle) 1.5-3 times as bright as the transmission (at its weakest)
    reflected *= rng.uniform(1.5, 3.0) * ((1 - rp) * transmitted).mean() / max((rs * reflected).mean(), 1e-9)
    s_dir = np.cross(rays, normals)
    psi = np.arctan2(s_dir[..., 1], s_dir[..., 0])  # the s direction in the image
    radiance = measure(reflected, transmitted, rs, rp, psi[..., None], DEGREES)
    return {"radiance": radiance, "reflection": rs * reflected / 2, "transmission": (1 - rp) * transmitted / 2,
            "aoi_range_degrees": np.degrees([np.arccos(cos_i.max()), np.arccos(cos_i.min())]), "aoi": np.arccos(cos_i),
            "pane": (rs, rp, psi[..., None]), "glass": glass}


def expose(pair: dict[str, Any], brightest: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A 16-bit raw capture of ``pair`` whose brightest pixel lies at ``brightest`` of full scale, and its truth."""
    gain = brightest / float(pair["radiance"].max())
    signal = pair["radiance"] * gain
    noisy = rng.poisson(signal * ELECTRONS) / ELECTRONS + rng.normal(0.0, READ_DN / 65535, signal.shape)
    raw = np.round(np.clip(noisy, 0.0, 1.0) * 65535) / 65535
    return {"observations": raw.astype(np.float32), "angles": np.radians(DEGREES),
            "reflection": (pair["reflection"] * gain).astype(np.float32),
            "transmission": (pair["transmission"] * gain).astype(np.float32)}


def exact_separation(pair: dict[str, Any], observations: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R̂, T̂) of ``observations`` inverted with the pane's true Fresnel weights and s direction at every pixel.

    No method can know these; per pixel this is the least-squares solution of
    eq. 5.2 with the exact coefficients, so its error is the sensor noise
    amplified by the inversion, the floor under every method on this capture,
    and its change across exposures is what noise alone does to a score.
    """
    rs, rp, psi = pair["pane"]
    ones, zeros = np.ones_like(rs), np.zeros_like(rs)
    a, b = measure(ones, zeros, rs, rp, psi, DEGREES), measure(zeros, ones, rs, rp, psi, DEGREES)  # (N, H, W, 1)
    obs = observations.astype(np.float64)
    aa, ab, bb = (a * a).sum(0), (a * b).sum(0), (b * b).sum(0)
    ai, bi = (a * obs).sum(0), (b * obs).sum(0)
    det = np.maximum(aa * bb - ab * ab, 1e-20)
    reflected, transmitted = (bb * ai - ab * bi) / det, (aa * bi - ab * ai) / det
    return rs * reflected / 2, (1 - rp) * transmitted / 2


def si_psnr(truth: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant PSNR (dB): the estimate scaled by least squares onto the truth, peak = the truth's max."""
    truth, estimate = truth.astype(np.float64), estimate.astype(np.float64)
    scale = float((truth * estimate).sum()) / max(float((estimate * estimate).sum()), 1e-20)
    peak = max(float(truth.max()), 1e-20)
    mse = float(np.mean((scale * estimate - truth) ** 2)) / peak**2
    return float(10 * np.log10(1.0 / max(mse, 1e-20)))
