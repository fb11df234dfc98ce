"""Work off the UI thread: workers for queries and long operations."""
