"""Long-running operations, written once as plain generators of `Progress`.

Each returns its report when driven to the end (`run_to_end`, the CLI's progress bar, the
inspector's worker thread). None imports Qt. Rebuild, verify and export write nothing until
they finish (verify and export never write to the store); import writes the whole file in
one transaction; demo writes batch by batch, each batch one transaction.
"""

from incident_core.operations.demo import DemoReport, check_demo, demo
from incident_core.operations.export_import import (
    DamagedLogError,
    ImportFileError,
    export_events,
    import_events,
)
from incident_core.operations.rebuild import ProjectionRebuilt, RebuildReport, rebuild
from incident_core.operations.verify import VerifyReport, verify

__all__ = [
    "DamagedLogError",
    "DemoReport",
    "ImportFileError",
    "ProjectionRebuilt",
    "RebuildReport",
    "VerifyReport",
    "check_demo",
    "demo",
    "export_events",
    "import_events",
    "rebuild",
    "verify",
]
