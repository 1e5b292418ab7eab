"""Use cases. The only layer that commits; views call one function here and render."""
