import sys

from agentfleet.cli import main

sys.exit(main())
