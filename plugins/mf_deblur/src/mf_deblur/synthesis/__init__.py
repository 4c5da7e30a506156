"""Training data for the RDN (thesis 6.4): camera-shake kernels, static bursts and dynamic, flow-interpolated
motion blur. ``static_sample`` and ``dynamic_sample`` are the ``deblur/static`` and ``deblur/dynamic``
generators of ``mf synth deblur``."""
