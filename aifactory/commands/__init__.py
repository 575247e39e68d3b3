"""One module per `aifactory` command; each has `register(subparsers)`."""
