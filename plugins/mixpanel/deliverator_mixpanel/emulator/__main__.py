"""``python -m deliverator_mixpanel.emulator --port 9000 ...``: see ``cli``."""

from deliverator_mixpanel.emulator.cli import main

main()
