"""Qt item models: lazy paging over core queries."""
