"""Pages served by the API: the web-map viewer (and, later, the conversion page and dashboard)."""
