"""``python -m websocket``: the interactive client (see ``_cli``)."""

from ._cli import main

if __name__ == "__main__":
    main()
