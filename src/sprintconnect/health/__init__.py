"""Health monitoring: scheduled and manual checks of every server, its status and history."""
