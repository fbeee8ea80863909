from remotejobs.cli.main import main

main()
