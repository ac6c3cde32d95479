from landguard.cli.main import main

main()
