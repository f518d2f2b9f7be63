"""`python -m nn` runs the `valuegrad` command."""

import sys

from nn.cli import main

if __name__ == "__main__":
    sys.exit(main())
