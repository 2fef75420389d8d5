"""``python -m deliverator_amplitude.emulator --port 9001 ...``: see ``cli``."""

from deliverator_amplitude.emulator.cli import main

main()
