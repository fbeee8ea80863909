"""Mantid's ``SCARFTomoReconstruction`` actions on top of remotejobs and its ``lsf-web``
backend (distribution ``remotejobs-mantid``). See :mod:`remotejobs_mantid.actions`."""

from remotejobs_mantid.actions import ACTIONS, ActionFailed, ScarfActions, SCARFTomoReconstruction, configure
from remotejobs_mantid.settings import MantidSettings

__all__ = ["ACTIONS", "ActionFailed", "MantidSettings", "SCARFTomoReconstruction", "ScarfActions", "configure"]
