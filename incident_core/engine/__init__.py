"""The command path: decide, record, project and react (the application and its unit of work)."""
