"""`python -m directory` runs the same command line as `aid-directory`."""

from directory.cli import main

if __name__ == "__main__":
    main()
