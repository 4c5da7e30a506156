"""The classical methods the network is measured against and can fall back on: SeqSLAM-style pixel
sequences, and SIFT histograms with VideoSnapping-style votes (whose SIFT matching the network's full-rate
band also uses)."""
