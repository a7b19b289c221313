"""The data layer: the contract (schemas and rules), loading from any source, and the synthetic world."""

from .contract import REQUIRED_TABLES, TABLES
from .load import ContractError, Dataset, SourceError, Violation, open_dataset, read_mapping, validate

__all__ = [
    "TABLES",
    "REQUIRED_TABLES",
    "ContractError",
    "Dataset",
    "SourceError",
    "Violation",
    "open_dataset",
    "read_mapping",
    "validate",
]
