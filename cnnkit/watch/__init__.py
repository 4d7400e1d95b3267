"""Watching a run learn: layer health while it trains and a snapshot of what its first layers see every epoch.

- ``names``: the health split, its quantities and metric names (no torch: the store's readers share them);
- ``lens``: a network's conv layers, their feature maps, conv 1's filters and Grad-CAM, on any inputs;
- ``probe``: the fixed images every epoch is looked at through (no random draw);
- ``health``: gradient, weight and update norms per layer; dead, saturated, mean and std per activation;
- ``snapshots``: an epoch's filters, maps, Grad-CAM and confusion matrix, and the capped file of them;
- ``watcher``: the one object the engine calls.
"""
