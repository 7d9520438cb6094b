"""How good is a policy: exact and Monte-Carlo evaluation of one vehicle's policies
(``vehicle``) and comparisons of depot policies against their bounds (``depot``)."""
