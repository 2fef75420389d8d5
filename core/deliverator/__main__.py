"""``python -m deliverator`` runs the command line."""

from deliverator._cli import main

main()
