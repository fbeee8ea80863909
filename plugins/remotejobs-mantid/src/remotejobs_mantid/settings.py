"""Settings of the Mantid actions: the compute resource's name, the algorithm's defaults
(formerly constants in the code) and the web service to talk to."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from remotejobs_lsf_web.settings import LsfWebSettings, ScarfSettings

__all__ = ["MantidSettings"]


class MantidSettings(BaseModel):
    """Frozen; unknown keys rejected. The defaults are those of Mantid's
    ``SCARFTomoReconstruction`` v1 (mantidproject/mantid,
    ``Framework/RemoteAlgorithms/src/SCARFTomoReconstruction.cpp``) for SCARF at STFC.

    :ivar compute_resource: the name used in messages (Mantid's facility resource name).
    :ivar runnable_path: ``RunnablePath`` when the caller gives none.
    :ivar job_options: ``JobOptions`` when the caller gives none.
    :ivar destination_directory: ``DestinationDirectory`` of ``Upload`` when not given.
    :ivar job_name_prefix: jobs without ``JobName`` are called ``<prefix><n>``.
    :ivar service: the PAC web service (default: the SCARF preset).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    compute_resource: str = Field(default="SCARF@STFC", min_length=1)
    runnable_path: str = "/work/imat/webservice_test/tomopy/imat_recon_FBP.py"
    job_options: str = "/work/imat/webservice_test/remote_output/test_"
    destination_directory: str = "/work/imat"
    job_name_prefix: str = Field(default="Mantid_tomography_", min_length=1)
    service: LsfWebSettings = Field(default_factory=ScarfSettings)
