import sys

from green_api_block.cli import main

sys.exit(main())
