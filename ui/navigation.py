"""The dashboard's pages, in the order of the navigation, with the line the home page shows for each."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageEntry:
    path: str
    title: str
    icon: str
    blurb: str


HOME = PageEntry("pages/0_Home.py", "Home", ":material/science:", "what runs, where, and the way in")
PAGES = (
    PageEntry("pages/1_Models.py", "Models", ":material/layers:",
              "per-layer shapes, parameters and MACs of every architecture"),
    PageEntry("pages/2_Train.py", "Train", ":material/rocket_launch:",
              "launch a run or a sweep; it trains in the background"),
    PageEntry("pages/3_Runs.py", "Runs", ":material/list_alt:", "live progress; cancel, resume, rename, tag, delete"),
    PageEntry("pages/4_Compare.py", "Compare", ":material/monitoring:",
              "curves side by side, grouped over seeds; tables and exports"),
    PageEntry("pages/5_Activations.py", "Activations", ":material/biotech:",
              "feature maps, filters, confusion, mistakes"),
    PageEntry("pages/6_Experiments.py", "Experiments", ":material/experiment:",
              "the what-if presets: one click, several seeds, a verdict"),
)
