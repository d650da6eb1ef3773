"""``python -m wayline`` runs the CLI."""

from wayline.cli.main import main

if __name__ == "__main__":
    main()
