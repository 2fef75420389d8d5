"""``python -m deliverator_customerio.emulator --port 9000 ...``: see ``cli``."""

from deliverator_customerio.emulator.cli import main

main()
