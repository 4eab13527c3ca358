"""One module per ``eage`` subcommand (see eage.cli)."""
