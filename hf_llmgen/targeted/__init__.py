"""Targeted data for high-confidence mistakes (Lippmann et al.): find a classifier's confident errors, describe
them as hypotheses, generate texts for each, retrain."""

from .blind_spots import BlindSpot, NoConfidentErrors, find_blind_spots
from .callback import BlindSpotCallback
from .hypotheses import save_hypotheses, write_hypotheses
from .loop import TargetedLoop

__all__ = ["BlindSpot", "BlindSpotCallback", "NoConfidentErrors", "TargetedLoop", "find_blind_spots",
           "save_hypotheses", "write_hypotheses"]
