"""The studies of the workbench, one subpackage each: the policies it plugs into the world,
its per-run metrics and its section of the report (:class:`~sim.studies.study.Study`).

Adding a study is one subpackage and one entry in :data:`STUDIES`; studies never import
each other.
"""

from .aging import AGING
from .burst import BURST
from .dni import DNI
from .fleet import FLEET
from .overview import OVERVIEW
from .platform import PLATFORM
from .storm import STORM
from .voice import VOICE

STUDIES = (OVERVIEW, BURST, AGING, DNI, STORM, FLEET, PLATFORM, VOICE)
"""Every study, in the order of the report's sections."""

__all__ = ["STUDIES"]
