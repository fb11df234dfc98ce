"""The main window: its layout, menus, dialogs and the views installed on it."""
