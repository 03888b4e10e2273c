"""The web console: a single-page app built from ``web/`` into ``static/`` and served at ``/``."""
