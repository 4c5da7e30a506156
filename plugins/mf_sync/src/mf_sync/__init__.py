"""mf_sync: video synchronisation learned without annotations (thesis chapter 4)."""
