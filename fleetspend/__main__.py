"""`python -m fleetspend` runs the fleetspend command."""

from fleetspend.cli import main

main()
