"""Human interventions as `datasets` transforms: label replacement and out-of-scope filtering."""

from .relabel import OracleRelabeler, ProxyRelabeler, Relabeler
from .scope import ScopeFilter

__all__ = ["OracleRelabeler", "ProxyRelabeler", "Relabeler", "ScopeFilter"]
