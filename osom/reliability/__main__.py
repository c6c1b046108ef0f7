"""``python -m osom.reliability`` (``make reliability``): the campaign's exit status is 1 if a
promise is broken."""

import os
import sys

from osom.reliability import main

if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The SDK's native threads can abort a finishing interpreter (DESIGN §7): keep our status.
    os._exit(code)
