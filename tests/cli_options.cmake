# Command line options declared once: refusal of options a subcommand does
# not take, the one integer parser.
civreg_test(test_cli_options SOURCES integration/test_cli_options.c LIBS civreg_core)
