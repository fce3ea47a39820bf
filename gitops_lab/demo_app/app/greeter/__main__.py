from greeter.server import main

main()
