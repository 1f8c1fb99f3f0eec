"""``chainrule lite``: the course as a static JupyterLite site that runs in the browser."""
