"""The built-in scenario files (``smartcharging scenario list``)."""
