from akun.cli import main

main()
