"""Maps for LabTour: folium rendering with self-hosted assets (pure: plain data in, HTML strings out)."""
