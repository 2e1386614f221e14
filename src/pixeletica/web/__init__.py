"""Pages served by the API: the web-map viewer, the conversion page and the dashboard."""
