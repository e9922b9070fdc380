import sys

from backchain.bot.adapters.cli import main

sys.exit(main())
