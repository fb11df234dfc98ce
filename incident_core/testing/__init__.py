"""The store contract, importable: run it against your own adapter with pytest.

```python
import pytest
from incident_core.testing import StoreContract, StoreFactory

class MyFactory(StoreFactory):
    def create(self): ...              # a fresh, empty, writable store
    def read_only(self, store): ...    # a read-only handle on the same data

class TestMyStore(StoreContract):
    @pytest.fixture
    def store_factory(self) -> StoreFactory:
        return MyFactory()
```

`StoreContract` is every role; an adapter can also take the roles it implements one by one
(`EventLogContract`, `ProjectionContract`, `InspectorContract`, `SagaLedgerContract`,
`LineageContract`, `SnapshotContract`), and `ClosedContract`: after `close()` every method
of the port refuses with "the store is closed". This package imports pytest; nothing else in
Incident imports this package.
"""

from incident_core.testing.closed_contract import ClosedContract
from incident_core.testing.factory import SPEC, ContractBase, StoreFactory, append, pending
from incident_core.testing.inspector_contract import InspectorContract
from incident_core.testing.log_contract import EventLogContract
from incident_core.testing.projection_contract import ProjectionContract
from incident_core.testing.side_contract import (
    LineageContract,
    SagaLedgerContract,
    SnapshotContract,
)

__all__ = [
    "SPEC",
    "ClosedContract",
    "ContractBase",
    "EventLogContract",
    "InspectorContract",
    "LineageContract",
    "ProjectionContract",
    "SagaLedgerContract",
    "SnapshotContract",
    "StoreContract",
    "StoreFactory",
    "append",
    "pending",
]


class StoreContract(EventLogContract, ProjectionContract, InspectorContract,
                    SagaLedgerContract, LineageContract, SnapshotContract, ClosedContract):
    """Every check of the store port: what the memory, SQLite and PostgreSQL adapters pass."""
