"""The status pages and the live status: what stored history says about each target.

``summary`` reads the samples and results into states, incidents and uptime;
``live`` is the small fragment on fix pages; ``views`` and ``urls`` serve them.
Nothing here sends a request out: the probes (``diagnostics.probes``, including
the status-page parsers) and the beat tasks fill the history these modules read.
"""
