"""`python -m incident_core.cli`."""

import sys

from incident_core.cli.main import main

sys.exit(main())
