"""Human interventions as `datasets` transforms: label replacement."""

from .relabel import ProxyRelabeler

__all__ = ["ProxyRelabeler"]
