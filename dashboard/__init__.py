"""emolens dashboard: a Streamlit app over `emolens.explain` and `emolens.models`.

Run it with `emolens dashboard` (see `emolens.commands.dashboard`); `app.py` is the entry
point, `loaders.py` holds every cached function, `widgets.py` the input groups, `views/` one
file per page. (Not `pages/`: Streamlit treats a `pages/` folder beside the main script as a
second, automatic multipage app with its own sidebar and URLs.)
"""
