"""``auto``, the default method: the pane's separation where the captures show one pane, the network elsewhere."""

import numpy as np
from mf_reflect.independent import expose, scene_pair
from mf_reflect.methods import Method, physics_holds, separate_with


def _capture(seed, glass):
    pair = scene_pair(np.random.default_rng(seed), 96, 128, glass=glass)
    capture = expose(pair, 0.9, np.random.default_rng(seed))
    return capture["observations"], capture["angles"]


def test_auto_keeps_the_physics_where_one_pane_explains_the_capture(tiny_reflect_weights):
    images, angles = _capture(1, "flat")
    assert physics_holds(images, angles)
    auto = separate_with(Method.auto, images, angles, tiny_reflect_weights[1])
    pane = separate_with(Method.pane, images, angles)
    np.testing.assert_array_equal(auto[1], pane[1])


def test_auto_runs_the_network_where_no_pane_does(tiny_reflect_weights):
    images, angles = _capture(11, "curved")  # a strongly curved window: agreement 0.88
    assert not physics_holds(images, angles)
    model = tiny_reflect_weights[1]
    auto = separate_with(Method.auto, images, angles, model)
    net = separate_with(Method.net, images, angles, model)
    np.testing.assert_allclose(auto[1], net[1], atol=1e-6)
    assert not np.allclose(auto[1], separate_with(Method.pane, images, angles)[1], atol=1e-3)


def test_auto_without_a_network_is_the_pane():
    images, angles = _capture(11, "curved")
    auto = separate_with(Method.auto, images, angles, None)
    np.testing.assert_array_equal(auto[1], separate_with(Method.pane, images, angles)[1])
