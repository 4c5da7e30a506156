"""The classical method the RDN is measured against and falls back on: Fourier Burst Accumulation."""
