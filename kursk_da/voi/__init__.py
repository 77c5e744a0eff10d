"""Value of information on the campaign model (the wrappers that need the spec and engine).

* :func:`campaign_evppi` -- EVPPI of every uncertain input and input group of a run;
* :func:`campaign_evppi_from_tree` -- the same from a saved result set;
* :func:`campaign_evppi_nested` -- nested (two-level) Monte Carlo EVPPI re-running the
  engine.

The general-purpose estimators on plain arrays (:func:`kursk_da.stats._evpi`,
:func:`kursk_da.stats._evppi`, :func:`kursk_da.stats.evppi_nested`,
:func:`kursk_da.stats.evsi_lognormal`, :class:`kursk_da.stats.VOIResult`) live in
:mod:`kursk_da.stats`; a run's draws (:class:`kursk_da.io._draws.CampaignDraws`) in
:mod:`kursk_da.io._draws`.
"""

from __future__ import annotations

from kursk_da.voi._campaign import campaign_evppi, campaign_evppi_from_tree, campaign_evppi_nested
from kursk_da.voi._evsi_outputs import evsi_curve_core, evsi_intelligence
from kursk_da.voi._waiting import value_of_waiting, value_of_waiting_core

__all__ = ["campaign_evppi", "campaign_evppi_from_tree", "campaign_evppi_nested",
           "value_of_waiting", "value_of_waiting_core", "evsi_intelligence", "evsi_curve_core"]
