"""Human interventions as `datasets` transforms: label replacement and out-of-scope filtering, and the
human loop that supplies their labels."""

from .llm import LLMJudge, LLMRelabeler, LLMScopeFilter
from .multilabel import MultiLabelProxyRelabeler
from .relabel import OracleRelabeler, ProxyRelabeler, Relabeler
from .scope import ScopeFilter
from .selection import choose_rows

__all__ = ["LLMJudge", "LLMRelabeler", "LLMScopeFilter", "MultiLabelProxyRelabeler", "OracleRelabeler",
           "ProxyRelabeler", "Relabeler", "ScopeFilter", "choose_rows"]
