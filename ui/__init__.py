"""The Streamlit UI layer between the pages (``app.py``, ``pages/``) and the engine (``segcore``).

Imports run one way: pages -> ``ui`` -> ``segcore``; ``ui`` never imports a page, ``segcore``
never imports ``ui`` or streamlit. Pages import the modules (``from ui import charts, context``)
and the text helpers by name (``from ui.i18n import labeller, t``); this package itself holds
nothing.

Shared by every page:

- ``i18n``: the locale files (``locales/<code>.toml``), the UI language and :func:`ui.i18n.t`.
- ``fmt``: numbers, money, percents and dates as text for the UI language (Babel).
- ``naming``: engine codes (columns, reasons, segments, risk levels ...) named in the UI language.
- ``state``: settings in session state, widgets bound to them, per-session memos, flash messages.
- ``data``: the sample, uploads, saved datasets, loading and caching, the active dataset.
- ``context``: what a page starts with: config, session defaults, the dataset and its tiers (Ctx).
- ``sidebar``: page links, language switch, data in use, tier settings.
- ``charts``: every plotly figure and the fixed colours.
- ``tables``: column layout and configs, the read-only page table, download buttons.
- ``filters``: the Segments page's breakdown filters as the lists on other pages apply them.
- ``settings``: the settings file and named settings in the workspace.
- ``session``: this browser's workspace key, its last session reopened after a reload, kept as it changes.

One module per page family (only that page imports it): ``data_page`` (``app.py``),
``customers``, ``segments``, ``migration``, ``churn``, ``playbook``, ``forecast``.
"""
