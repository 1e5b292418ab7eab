"""The WSGI entry point for gunicorn (bin/serve, app.bench).

Loads up front what the heaviest pages would import on their first request — folium for the maps takes half a
second — so that no visitor waits for it after a deploy; with gunicorn's --preload once for all workers."""
import maps.render  # noqa: F401

from app import create_app

application = create_app()
