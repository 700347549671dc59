"""emolens dashboard: a Streamlit app over `emolens.explain` and `emolens.models`.

Run it with `emolens dashboard` (see `emolens.commands.dashboard`); `app.py` is the entry
point, `loaders.py` holds every cached function, `widgets.py` the input groups, `pages/` one
file per page.
"""
