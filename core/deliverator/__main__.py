"""``python -m deliverator`` runs the command line."""

from deliverator.cli import main

main()
