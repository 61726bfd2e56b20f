"""Programme indicators for donors: figures by sex and region, drill-downs, CSV, XLSX, PDF.

Indicators come from every plugin through the ``register_indicators`` hook (the host's own
are in ``host.py``); ``indicators.py`` is what plugin authors import. See docs/reports.md.
"""
