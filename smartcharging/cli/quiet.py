"""Third-party warnings stay out of the CLI's output: an error is one line on stderr, and a
NumPy RuntimeWarning or an RLlib deprecation notice before it breaks that contract.

``SMARTCHARGING_WARNINGS=1`` or Python's ``-W`` option (``PYTHONWARNINGS``) shows them.
"""

import logging
import os
import sys
import warnings

#: The environment variable that keeps third-party warnings and Ray's log notices.
SHOW_WARNINGS = "SMARTCHARGING_WARNINGS"


def quiet_third_party() -> None:
    """Ignore warnings raised outside ``smartcharging`` and log only Ray's errors, unless
    the user asked for warnings."""
    if os.environ.get(SHOW_WARNINGS, "") not in ("", "0") or sys.warnoptions:
        return
    warnings.filterwarnings("ignore")
    warnings.filterwarnings("default", module=r"smartcharging(\.|$)")
    logging.getLogger("ray").setLevel(logging.ERROR)
