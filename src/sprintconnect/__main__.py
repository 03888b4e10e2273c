from sprintconnect.cli import main

main()
