"""The multi-tenant softphone platform in the world (system 7, US 11,546,463): tenants'
numbers from the inventory, origination, the event engine of :mod:`models.platform`
stepped by a SimPy process, and the platform's tables."""

from .platform import Platform
from .structure import Layout, PlatformPolicies, layout_of, structure_of

__all__ = ["Layout", "Platform", "PlatformPolicies", "layout_of", "structure_of"]
