"""How things look, without widgets: event-type colours, text forms, object names."""
