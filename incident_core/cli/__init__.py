"""The `incident` command: create, seed, query, check and move an event store.

JSON goes to stdout; messages and progress bars (on a terminal only) go to stderr.
Nothing heavy is imported before the arguments are parsed, and Qt never is.

Exit codes: 0 done; 1 rejected by the domain, conflict, or no such aggregate; 2 usage or
invalid input (bad command data, unknown command type or projection, bad import file);
3 `verify` found mismatches; 4 the store cannot be used (missing for a read, not an Incident
store, corrupt, newer schema); 5 domain code raised; 130 interrupted.

Failures about the request itself (exit 1, the JSON-shaped exit 2 cases: invalid or unknown
command, unknown projection; exit 3) also print `{"ok": false, "error": <code>, ...}` on
stdout; the others only print one line on stderr. Reads open the store read-only and never
create it; `init`, `dispatch`, `demo` and `import` create a missing SQLite store.
"""


from incident_core.cli.main import main

__all__ = ["main"]
