"""`python -m zazacli` runs the same entry point as the `zaza` script."""

from zazacli.main import main

if __name__ == "__main__":
    main()
